// How times, sizes and objects read on the pages.

export function bytes(n) {
  if (n === undefined || n === null || Number.isNaN(Number(n))) return '';
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function dateTime(iso) {
  if (!iso) return '';
  // Epoch seconds are accepted too (ms when they are that large).
  const d = typeof iso === 'number' ? new Date(iso < 1e12 ? iso * 1000 : iso) : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString();
}

export function age(iso, now = Date.now()) {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  let sec = Math.max(0, Math.round((now - t) / 1000));
  if (sec < 60) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min}m`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours}h${min % 60 ? ` ${min % 60}m` : ''}`;
  sec = Math.floor(hours / 24);
  return `${sec}d`;
}

export function duration(startIso, endIso) {
  if (!startIso) return '';
  const start = new Date(startIso).getTime();
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  return age(new Date(start).toISOString(), end);
}

export function number(v, digits = 4) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === undefined ? '' : String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}

// The condition of `type` in a status, or undefined.
export function condition(status, type) {
  return ((status && status.conditions) || []).find((c) => c.type === type);
}

// What to tell a person about an object that is not well: the first False condition's message.
export function problem(status) {
  const c = ((status && status.conditions) || []).find((x) => x.status === 'False' && x.message);
  return c ? c.message : '';
}
