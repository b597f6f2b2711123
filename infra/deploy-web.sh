#!/usr/bin/env bash
# Publishes the built web client to a deployed stack (`make deploy-web STACK=<name>`):
#
#   infra/deploy-web.sh STACK
#
# 1. Reads the stack's outputs and writes config.json from them: the file the client
#    fetches at start (REST and WebSocket URLs, the OIDC settings). It is made here, not
#    by the build, so that one build serves any stack.
# 2. Uploads the build (WEB_DIST, default web/dist: `make web-build`) to WebBucketName,
#    with the headers each kind of file needs:
#      assets/*      content-hashed names: `public, max-age=31536000, immutable`
#      *.html        `no-cache` (browsers revalidate; the edge keeps it 1 s)
#      sw.js         `no-cache`: the service worker's name has no hash, and a stale one
#                    would keep showing notifications the old way
#      config.json   `no-cache`, application/json
#      other files   `public, max-age=300` (favicon and the like: names without a hash)
#    in this order: assets, other files, config.json, index.html last, so that a browser
#    loading the page mid-deploy never gets an index.html whose assets are not there yet.
# 3. Deletes the objects that are neither in this build nor, for assets/, in the previous
#    one: a tab opened before this deploy still lazy-loads its route chunks (older
#    generations go). The generations are kept in deploy-manifest.json in the bucket.
# 4. Invalidates /index.html and /config.json on WebDistributionId (every route is the
#    cached /index.html: see WebSpaRewriteFunction in template.yaml), or says why not.
#
# The aws CLI is taken from PATH, else from .venv/bin. It finds credentials, the region
# and AWS_ENDPOINT_URL (moto, LocalStack) as it always does; AWS_REGION is passed on as
# AWS_DEFAULT_REGION for CLI v1, which reads only the latter. Needs python3 (JSON).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
manifest_key=deploy-manifest.json

die() {
  echo "deploy-web: $*" >&2
  exit 1
}
say() { echo "deploy-web: $*"; }

[ $# -eq 1 ] && [ -n "$1" ] || {
  echo "usage: $0 STACK   (WEB_DIST=path/to/dist to publish another build)" >&2
  exit 2
}
stack=$1
dist=${WEB_DIST:-$root/web/dist}

if command -v aws >/dev/null 2>&1; then
  aws_cli=$(command -v aws)
elif [ -x "$root/.venv/bin/aws" ]; then
  aws_cli=$root/.venv/bin/aws
else
  die "no aws CLI on PATH or in .venv/bin (make venv installs one)"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is needed"
if [ -z "${AWS_DEFAULT_REGION:-}" ] && [ -n "${AWS_REGION:-}" ]; then
  export AWS_DEFAULT_REGION=$AWS_REGION
fi
export AWS_PAGER=""
aws() { command "$aws_cli" "$@"; }

[ -f "$dist/index.html" ] || die "$dist/index.html not found: build the web client first (make web-build)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The JSON work (outputs -> config.json, which file gets which headers, what is stale),
# in one place. Subcommands:
#   config OUTPUTS CONFIG        write config.json; print "bucket<TAB>distribution id"
#   plan DIST REMOTE MANIFEST W  write W/groups-*.tsv, W/manifest.json, W/delete-*.json
read -r -d '' helper <<'PY' || true
import json, os, sys

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
SHORT = "public, max-age=300"
# Explicit types rather than the CLI's guess (which depends on the machine's mime.types):
# with nosniff, a script served with the wrong type does not run.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".wasm": "application/wasm",
}
MANIFEST = "deploy-manifest.json"
SERVICE_WORKER = "sw.js"
CONFIG = "config.json"


def fail(message):
    print(f"deploy-web: {message}", file=sys.stderr)
    sys.exit(1)


def config(outputs_path, config_path):
    raw = json.load(open(outputs_path)) or []
    outputs = {o["OutputKey"]: (o.get("OutputValue") or "").strip() for o in raw}
    required = ["RestApiUrl", "WebSocketUrl", "UserPoolId", "UserPoolClientId", "AuthDomain", "WebBucketName"]
    missing = [k for k in required if not outputs.get(k)]
    if missing:
        fail(f"the stack has no output {', '.join(missing)}: is it this template's stack, deployed with the web hosting?")
    pool = outputs["UserPoolId"]
    if "_" not in pool:
        fail(f"UserPoolId {pool!r} is not <region>_<id>")
    # The issuer as the template states it; from the pool id (<region>_...) otherwise.
    authority = outputs.get("AuthAuthority") or f"https://cognito-idp.{pool.split('_', 1)[0]}.amazonaws.com/{pool}"
    document = {
        # REST paths (/api/messaging/...) are appended to it: no trailing slash.
        "apiBaseUrl": outputs["RestApiUrl"].rstrip("/"),
        "wsUrl": outputs["WebSocketUrl"],
        "auth": {
            "authority": authority,
            "clientId": outputs["UserPoolClientId"],
            "scope": "openid profile email",
            "redirectPath": "/auth/callback",
            "postLogoutRedirectPath": "/login",
            "logoutUrl": outputs["AuthDomain"].rstrip("/") + "/logout",
            # Cognito's discovery names neither: signing out revokes the refresh token here.
            "revocationUrl": outputs["AuthDomain"].rstrip("/") + "/oauth2/revoke",
            "renewSecondsBeforeExpiry": 60,
        },
    }
    with open(config_path, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    print(f"{outputs['WebBucketName']}\t{outputs.get('WebDistributionId', '')}")


def escape(path):
    # The CLI's --include patterns are fnmatch patterns: name files literally.
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def plan(dist, remote_path, manifest_path, work):
    files = []
    for directory, _, names in os.walk(dist):
        for name in names:
            rel = os.path.relpath(os.path.join(directory, name), dist).replace(os.sep, "/")
            if rel in (CONFIG, MANIFEST):
                print(f"deploy-web: skipping {rel} of the build: this script writes it", file=sys.stderr)
                continue
            files.append(rel)
    groups = {}
    for rel in sorted(files):
        ext = os.path.splitext(rel)[1].lower()
        if rel.startswith("assets/"):
            phase, cache = 0, IMMUTABLE
        elif ext == ".html" or rel == SERVICE_WORKER:
            phase, cache = 2, NO_CACHE
        else:
            phase, cache = 1, SHORT
        # "-": a type not in the table, for the CLI to guess (bash's read would drop an
        # empty field between two tabs).
        groups.setdefault((phase, cache, TYPES.get(ext, "-")), []).append(escape(rel))
    for phase, name in ((0, "first"), (1, "first"), (2, "last")):
        with open(os.path.join(work, f"groups-{name}.tsv"), "a") as f:
            for (p, cache, ctype), patterns in sorted(groups.items()):
                if p == phase:
                    f.write("\t".join([cache, ctype, *patterns]) + "\n")

    assets = sorted(f for f in files if f.startswith("assets/"))
    previous = []
    if manifest_path and os.path.exists(manifest_path):
        try:
            old = json.load(open(manifest_path))
            current, before = list(old["current"]), list(old["previous"])
            # The same build again keeps the generation before it; a new build makes the
            # last one the previous.
            previous = before if sorted(current) == assets else current
        except (ValueError, KeyError, TypeError):
            print(f"deploy-web: {MANIFEST} is unreadable: keeping no previous assets", file=sys.stderr)
    with open(os.path.join(work, "manifest.json"), "w") as f:
        json.dump({"current": assets, "previous": sorted(set(previous) - set(assets))}, f, indent=2)
        f.write("\n")

    remote = json.load(open(remote_path)) or []
    keep = set(files) | {CONFIG, MANIFEST} | {p for p in previous if p.startswith("assets/")}
    stale = sorted(set(remote) - keep)
    for i in range(0, len(stale), 1000):
        batch = {"Objects": [{"Key": k} for k in stale[i : i + 1000]], "Quiet": True}
        with open(os.path.join(work, f"delete-{i // 1000:04d}.json"), "w") as f:
            json.dump(batch, f)
    print(f"{len(files)}\t{len(stale)}\t{len(previous)}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"config": config, "plan": plan}[command](*args)
PY
helper() { python3 -c "$helper" "$@"; }

# 1. Outputs -> config.json
if ! aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Outputs' \
  --output json >"$work/outputs.json"; then
  die "cannot read the outputs of stack $stack (name, region and credentials right?)"
fi
IFS=$'\t' read -r bucket distribution < <(helper config "$work/outputs.json" "$work/config.json")
[ -n "$bucket" ] || die "no bucket in the outputs of $stack"
say "stack $stack: bucket $bucket, distribution ${distribution:-none}"

# 2. What is there, what goes where
aws s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].Key' --output json >"$work/remote.json"
previous_manifest=""
if python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in (json.load(open(sys.argv[1])) or []) else 1)' \
  "$work/remote.json" "$manifest_key"; then
  aws s3 cp --only-show-errors "s3://$bucket/$manifest_key" "$work/previous-manifest.json"
  previous_manifest=$work/previous-manifest.json
fi
IFS=$'\t' read -r file_count stale_count kept_count < <(helper plan "$dist" "$work/remote.json" "$previous_manifest" "$work")

upload_groups() {
  local cache ctype
  local -a patterns includes type_args
  while IFS=$'\t' read -r -a fields; do
    cache=${fields[0]}
    ctype=${fields[1]}
    patterns=("${fields[@]:2}")
    includes=()
    for p in "${patterns[@]}"; do includes+=(--include "$p"); done
    type_args=()
    [ "$ctype" = - ] || type_args=(--content-type "$ctype")
    # ${a[@]+...}: an empty array under `set -u` (bash 3.2, macOS).
    aws s3 cp --only-show-errors --recursive "$dist" "s3://$bucket/" --exclude '*' "${includes[@]}" \
      --cache-control "$cache" ${type_args[@]+"${type_args[@]}"} </dev/null
  done <"$1"
}

upload_groups "$work/groups-first.tsv"
aws s3 cp --only-show-errors "$work/config.json" "s3://$bucket/config.json" \
  --cache-control "no-cache" --content-type "application/json"
upload_groups "$work/groups-last.tsv"
aws s3 cp --only-show-errors "$work/manifest.json" "s3://$bucket/$manifest_key" \
  --cache-control "no-cache" --content-type "application/json"
say "uploaded $file_count files and config.json from $dist"

# 3. Stale objects
for batch in "$work"/delete-*.json; do
  [ -e "$batch" ] || continue
  errors=$(aws s3api delete-objects --bucket "$bucket" --delete "file://$batch" --query 'Errors[].Key' --output text)
  if [ -n "$errors" ] && [ "$errors" != "None" ]; then
    die "could not delete: $errors"
  fi
done
say "deleted $stale_count stale objects (kept $kept_count assets of the previous build for open tabs)"

# 4. CloudFront
if [ -z "$distribution" ]; then
  say "no WebDistributionId output: skipping the CloudFront invalidation"
else
  invalidation=$(aws cloudfront create-invalidation --distribution-id "$distribution" \
    --paths /index.html /config.json /sw.js --query 'Invalidation.Id' --output text)
  say "invalidation $invalidation of /index.html, /config.json and /sw.js on $distribution (takes a minute or two)"
fi
say "done"
