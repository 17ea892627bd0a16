// The walks server-side apply makes over objects, after structured-merge-diff's typed package
// (tofieldset.go, compare.go, merge.go, remove.go) with the schema reduced to FieldSemantics:
// JSON objects are granular maps unless atomic, lists follow their ListSemantics.
#include <set>

#include "field_set.h"

namespace rc::sim::patch_detail {

using nlohmann::json;
using Names = std::vector<std::string>;

struct TypedWalker::Keyed {
  std::vector<std::string> order;            // distinct elements, in list order
  std::map<std::string, const json*> items;  // element -> first item with it
  std::vector<std::string> per_item;         // element of each item
};

namespace {

const json kEmptyList = json::array();

std::string dotted(const Names& names) {
  std::string s;
  for (const auto& n : names) s += "." + n;
  return s;
}

bool is_container(const json* v) {
  return v && (v->is_object() || v->is_array());
}

json without_nulls(const json& v) {
  if (!v.is_object()) return v;
  json out = json::object();
  for (const auto& [k, x] : v.items())
    if (!x.is_null()) out[k] = without_nulls(x);
  return out;
}

}  // namespace

bool TypedWalker::atomic_map(const Names& names) const {
  return !names.empty() && types_.atomic_maps && types_.atomic_maps(names);
}

ListSemantics TypedWalker::list_semantics(const Names& names, const json& list) const {
  return types_.lists ? types_.lists(names, list) : ListSemantics{};
}

// Path elements of a list's items; false when the list is atomic or (not strict) an item cannot
// be keyed, in which case the list is handled as atomic.
bool TypedWalker::key_items(const Names& names, const json& list, bool strict, Keyed& out) const {
  ListSemantics sem = list_semantics(names, list);
  if (sem.kind == ListSemantics::Atomic || (sem.kind == ListSemantics::Map && sem.keys.empty()))
    return false;
  auto fail = [&](const std::string& why) {
    if (strict)
      throw PatchError("failed to create typed patch object (" + gvk_ + "): " + dotted(names) +
                       ": " + why);
    return false;
  };
  for (size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    std::string e;
    if (sem.kind == ListSemantics::Map) {
      if (!item.is_object())
        return fail("element " + std::to_string(i) + ": expected map, got " + item.dump());
      json key = json::object();
      for (const auto& k : sem.keys) {
        if (item.contains(k) && !item[k].is_null())
          key[k] = item[k];
        else if (sem.key_defaults.contains(k))
          key[k] = sem.key_defaults[k];
        else
          return fail("element " + std::to_string(i) +
                      ": associative list with keys has an element that omits key field \"" + k +
                      "\" (and doesn't have default value)");
      }
      e = "k:" + key.dump();
    } else {
      if (is_container(&item))
        return fail("element " + std::to_string(i) +
                    ": associative list without keys has an element that's a map type");
      e = "v:" + item.dump();
    }
    out.per_item.push_back(e);
    if (out.items.count(e)) {
      if (strict) fail("duplicate entries for key " + path_string({e}));
      continue;
    }
    out.order.push_back(e);
    out.items[e] = &item;
  }
  return true;
}

// ---- field set of a value (tofieldset.go): leaves, atomic values and list items.

FieldSet TypedWalker::to_field_set(const json& obj, bool strict) const {
  FieldSet out;
  Names names;
  Elements elems;
  to_set(obj, names, elems, strict, out);
  return out;
}

void TypedWalker::to_set(const json& v, Names& names, Elements& elems, bool strict,
                         FieldSet& out) const {
  if (v.is_object() && !atomic_map(names)) {
    for (const auto& [k, x] : v.items()) {
      names.push_back(k);
      elems.push_back("f:" + k);
      to_set(x, names, elems, strict, out);
      names.pop_back();
      elems.pop_back();
    }
    return;
  }
  Keyed keyed;
  if (v.is_array() && key_items(names, v, strict, keyed)) {
    for (const auto& e : keyed.order) {
      elems.push_back(e);
      to_set(*keyed.items[e], names, elems, strict, out);
      out.insert(elems);
      elems.pop_back();
    }
    return;
  }
  out.insert(elems);
}

// ---- compare (compare.go): leaves added, modified or removed, and nodes added or removed.

Comparison TypedWalker::compare(const json& lhs, const json& rhs) const {
  Comparison c;
  Names names;
  Elements elems;
  compare(&lhs, &rhs, names, elems, c);
  return c;
}

void TypedWalker::compare(const json* l, const json* r, Names& names, Elements& elems,
                          Comparison& c) const {
  auto leaf = [&] {
    if (elems.empty()) return;
    if (!l)
      c.added.insert(elems);
    else if (!r)
      c.removed.insert(elems);
    else if (*l != *r)
      c.modified.insert(elems);
  };
  const json* ref = (r && !r->is_null()) ? r : l;
  bool object = ref && ref->is_object(), list = ref && ref->is_array();
  // Values of different kinds compare as leaves; null stands for an empty value of either kind.
  for (const json* v : {l, r})
    if (v && !v->is_null() && (v->is_object() != object || v->is_array() != list))
      object = list = false;
  if (!object && !list) return leaf();
  bool l_empty = !l || l->is_null() || l->empty(), r_empty = !r || r->is_null() || r->empty();
  if (l_empty && r_empty) return leaf();
  if (object) {
    if (atomic_map(names)) return leaf();
    std::set<std::string> keys;
    for (const json* v : {l, r})
      if (v && v->is_object())
        for (const auto& item : v->items()) keys.insert(item.key());
    for (const auto& k : keys) {
      const json* lc = (l && l->is_object() && l->contains(k)) ? &(*l)[k] : nullptr;
      const json* rc = (r && r->is_object() && r->contains(k)) ? &(*r)[k] : nullptr;
      names.push_back(k);
      elems.push_back("f:" + k);
      compare(lc, rc, names, elems, c);
      names.pop_back();
      elems.pop_back();
    }
  } else {
    Keyed lk, rk;
    const json& ll = (l && l->is_array()) ? *l : kEmptyList;
    const json& rl = (r && r->is_array()) ? *r : kEmptyList;
    if (!key_items(names, ll, false, lk) || !key_items(names, rl, false, rk)) return leaf();
    std::vector<std::string> all = rk.order;
    for (const auto& e : lk.order)
      if (!rk.items.count(e)) all.push_back(e);
    for (const auto& e : all) {
      auto li = lk.items.find(e), ri = rk.items.find(e);
      elems.push_back(e);
      compare(li == lk.items.end() ? nullptr : li->second,
              ri == rk.items.end() ? nullptr : ri->second, names, elems, c);
      elems.pop_back();
    }
  }
  if (elems.empty()) return;
  if (!l)
    c.added.insert(elems);
  else if (!r)
    c.removed.insert(elems);
}

// ---- merge (merge.go): the applied configuration over the live object.

json TypedWalker::merge(const json& lhs, const json& rhs) const {
  Names names;
  json out;
  if (!merge(&lhs, &rhs, names, out)) return json::object();
  return out;
}

bool TypedWalker::merge(const json* l, const json* r, Names& names, json& out) const {
  if (!r) {
    if (!l) return false;
    out = *l;
    return true;
  }
  if (r->is_null()) return false;  // null in the configuration: the field goes
  bool same_kind = l && l->is_object() == r->is_object() && l->is_array() == r->is_array();
  if (!same_kind || (!r->is_object() && !r->is_array()) || (l->empty() && r->empty())) {
    out = without_nulls(*r);
    return true;
  }
  if (r->is_object()) {
    if (atomic_map(names)) {
      out = without_nulls(*r);
      return true;
    }
    out = json::object();
    for (const auto& [k, lv] : l->items()) {
      names.push_back(k);
      json v;
      auto it = r->find(k);
      if (merge(&lv, it == r->end() ? nullptr : &*it, names, v)) out[k] = std::move(v);
      names.pop_back();
    }
    for (const auto& [k, rv] : r->items()) {
      if (l->contains(k)) continue;
      names.push_back(k);
      json v;
      if (merge(nullptr, &rv, names, v)) out[k] = std::move(v);
      names.pop_back();
    }
    return !out.empty();
  }
  Keyed lk, rk;
  if (!key_items(names, *l, false, lk) || !key_items(names, *r, false, rk)) {
    out = *r;
    return true;
  }
  // Item order as structured-merge-diff keeps it: shared items in the configuration's order, the
  // live-only ones where they were, the new ones where the configuration puts them.
  out = json::array();
  auto emit = [&](const std::string& e) {
    auto li = lk.items.find(e), ri = rk.items.find(e);
    json v;
    if (merge(li == lk.items.end() ? nullptr : li->second,
              ri == rk.items.end() ? nullptr : ri->second, names, v))
      out.push_back(std::move(v));
  };
  std::vector<std::string> shared;
  for (const auto& e : rk.order)
    if (lk.items.count(e)) shared.push_back(e);
  size_t next = 0;
  const std::string* next_shared = shared.empty() ? nullptr : &shared[next++];
  auto advance = [&] { next_shared = next < shared.size() ? &shared[next++] : nullptr; };
  std::set<std::string> done;
  size_t li = 0, ri = 0, ln = lk.order.size(), rn = rk.order.size();
  while (li < ln || ri < rn) {
    if (li < ln && ri < rn) {
      const std::string& pe = lk.order[li];
      if (pe == rk.order[ri]) {
        done.insert(pe);
        emit(pe);
        ++li, ++ri;
        advance();
        continue;
      }
      if (rk.items.count(pe) && next_shared && *next_shared != pe) {
        ++li;
        continue;
      }
    }
    if (li < ln) {
      const std::string& pe = lk.order[li];
      if (!rk.items.count(pe)) {
        emit(pe);
        ++li;
        continue;
      }
      if (done.count(pe)) {
        ++li;
        continue;
      }
    }
    if (ri < rn) {
      const std::string& pe = rk.order[ri];
      done.insert(pe);
      emit(pe);
      ++ri;
      if (next_shared && *next_shared == pe) advance();
    }
  }
  return !out.empty();
}

// ---- remove (remove.go).

void TypedWalker::remove(json& obj, const FieldSet& set) const {
  Names names;
  remove(obj, set, names);
}

void TypedWalker::remove(json& v, const FieldSet& set, Names& names) const {
  if (v.is_object()) {
    if (atomic_map(names)) return;
    for (const auto& [e, child] : set.children) {
      if (e.compare(0, 2, "f:") != 0) continue;
      std::string k = e.substr(2);
      auto it = v.find(k);
      if (it == v.end()) continue;
      if (child.member) {
        v.erase(it);
        continue;
      }
      bool had_content = is_container(&*it) && !it->empty();
      names.push_back(k);
      remove(*it, child, names);
      names.pop_back();
      if (had_content && it->empty()) v.erase(it);
    }
    return;
  }
  Keyed keyed;
  if (!v.is_array() || !key_items(names, v, false, keyed)) return;
  json out = json::array();
  for (size_t i = 0; i < v.size(); ++i) {
    auto it = set.children.find(keyed.per_item[i]);
    if (it == set.children.end()) {
      out.push_back(v[i]);
      continue;
    }
    if (it->second.member) continue;
    json item = v[i];
    remove(item, it->second, names);
    out.push_back(std::move(item));
  }
  v = std::move(out);
}

}  // namespace rc::sim::patch_detail
