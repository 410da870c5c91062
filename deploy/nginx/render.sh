#!/bin/sh
# Prints deploy/nginx/passalong.conf with its ${PASSALONG_*} placeholders filled
# from an env file (production.env, or the one benchmarks/proxy.py writes).
# nginx's own $variables are left alone. Usage:
#   deploy/nginx/render.sh deploy/nginx/production.env > /etc/nginx/sites-available/passalong.conf
set -eu
here=$(dirname "$0")
[ $# -eq 1 ] || { echo "usage: $0 ENV_FILE" >&2; exit 2; }
case $1 in */*) env_file=$1 ;; *) env_file=./$1 ;; esac  # "." searches PATH otherwise
set -a
. "$env_file"
set +a
names=$(grep -o '\${PASSALONG_[A-Z_]*}' "$here/passalong.conf" | sort -u)
for name in $names; do
    var=${name#??}
    var=${var%?}
    eval "value=\${$var:-}"
    [ -n "$value" ] || { echo "$0: $var is not set in $1" >&2; exit 1; }
done
envsubst "$names" < "$here/passalong.conf"
