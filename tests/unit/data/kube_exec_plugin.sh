#!/bin/sh
# A client-go exec credential plugin for kube_config_test. Each run appends a line to
# $COUNTER_FILE and copies $KUBERNETES_EXEC_INFO to $INFO_FILE; $PLUGIN_MODE picks the answer:
#   token (default)  status.token "token-<run number>", with $PLUGIN_EXPIRY as expirationTimestamp
#   cert             $CERT_FILE and $KEY_FILE as clientCertificateData/clientKeyData
#   fail             a message on stderr and exit code 3
#   sleep            sleeps 30s (the caller's timeout must kill it)
#   garbage          stdout that is not JSON
# $PLUGIN_API_VERSION is the apiVersion answered (default: the one in KUBERNETES_EXEC_INFO).
set -eu
n=1
if [ -n "${COUNTER_FILE:-}" ]; then
  echo run >>"$COUNTER_FILE"
  n=$(wc -l <"$COUNTER_FILE" | tr -d ' ')
fi
if [ -n "${INFO_FILE:-}" ]; then printf '%s' "${KUBERNETES_EXEC_INFO:-}" >"$INFO_FILE"; fi
version=${PLUGIN_API_VERSION:-$(printf '%s' "${KUBERNETES_EXEC_INFO:-}" |
  sed -n 's/.*"apiVersion":"\([^"]*\)".*/\1/p')}
expiry=null
if [ -n "${PLUGIN_EXPIRY:-}" ]; then expiry="\"$PLUGIN_EXPIRY\""; fi
pem() { awk '{ printf "%s\\n", $0 }' "$1"; }
case "${PLUGIN_MODE:-token}" in
  token)
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s","expirationTimestamp":%s}}\n' \
      "$version" "$n" "$expiry"
    ;;
  cert)
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"%s","clientKeyData":"%s"}}\n' \
      "$version" "$(pem "$CERT_FILE")" "$(pem "$KEY_FILE")"
    ;;
  fail)
    echo "  plugin: no credentials for cluster-x (run login first)  " >&2
    exit 3
    ;;
  sleep)
    echo "waiting for the login" >&2
    sleep 30
    ;;
  garbage)
    echo "token-secret-value"
    ;;
esac
