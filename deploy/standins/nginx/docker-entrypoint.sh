#!/bin/bash
# As the official image's /docker-entrypoint.sh with its 20-envsubst-on-templates.sh: every
# /etc/nginx/templates/NAME.template becomes /etc/nginx/conf.d/NAME, with only the ${VARS} that are set in
# the environment substituted (nginx's own $variables stay).
set -euo pipefail

if [ "${1:-}" = nginx ] && [ -d /etc/nginx/templates ]; then
    defined="$(printf '${%s} ' $(compgen -e))"
    for template in /etc/nginx/templates/*.template; do
        [ -f "$template" ] || continue
        output="/etc/nginx/conf.d/$(basename "$template" .template)"
        echo "$0: rendering $template to $output" >&2
        envsubst "$defined" <"$template" >"$output"
    done
fi
exec "$@"
