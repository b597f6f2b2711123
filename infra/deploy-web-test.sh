#!/usr/bin/env bash
# infra/deploy-web.sh against moto (AWS_ENDPOINT_URL, as `make test` sets it):
#
#   eval "$(infra/test-services/start.sh)"; infra/deploy-web-test.sh
#
# A small CloudFormation stack stands in for the real one: a bucket, and outputs with the
# real template's names (checked against template.yaml first). moto's CloudFormation has
# no AWS::CloudFront::Distribution, so the distribution is made with the CloudFront API
# and its id passed to the stack as a parameter; a second stack without it exercises the
# skip path. Checks: each object's Cache-Control and Content-Type, config.json, that stale
# objects go (the previous build's assets only one build later), that a second run changes
# nothing, the invalidations, and the refusals. Cleans up after itself; at most 5 minutes.
set -euo pipefail

if [ -z "${DEPLOY_WEB_TEST_BOUNDED:-}" ]; then
  DEPLOY_WEB_TEST_BOUNDED=1 exec timeout --kill-after=10 300 "$0" "$@"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
deploy=$root/infra/deploy-web.sh

fail() {
  echo "deploy-web-test: FAIL: $*" >&2
  exit 1
}
step() { echo "deploy-web-test: $*"; }

# Never against AWS itself: this creates and deletes stacks, buckets and a distribution.
[ -n "${AWS_ENDPOINT_URL:-}" ] ||
  fail "AWS_ENDPOINT_URL is not set: run under make test, or eval \"\$(infra/test-services/start.sh)\" first"
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}
export AWS_PAGER=""
if command -v aws >/dev/null 2>&1; then aws_cli=aws; else aws_cli=$root/.venv/bin/aws; fi
[ -x "$(command -v "$aws_cli")" ] || fail "no aws CLI (make venv)"
aws() { timeout 60 "$aws_cli" "$@"; }
region=$AWS_DEFAULT_REGION

tmp=$(mktemp -d)
run_id="dwt-$$-$(date +%s)"
stacks=()
distribution=""
cleanup() {
  set +e
  for s in "${stacks[@]+"${stacks[@]}"}"; do
    b=$(aws cloudformation describe-stacks --stack-name "$s" \
      --query "Stacks[0].Outputs[?OutputKey=='WebBucketName'].OutputValue" --output text 2>/dev/null)
    [ -n "$b" ] && [ "$b" != None ] && aws s3 rm --quiet --recursive "s3://$b" >/dev/null 2>&1
    aws cloudformation delete-stack --stack-name "$s" >/dev/null 2>&1
  done
  if [ -n "$distribution" ]; then
    etag=$(aws cloudfront get-distribution --id "$distribution" --query ETag --output text 2>/dev/null)
    aws cloudfront delete-distribution --id "$distribution" --if-match "$etag" >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# --- The outputs deploy-web.sh reads are the template's -------------------------------
python3 - "$root/template.yaml" <<'PY' || fail "template.yaml lacks an output deploy-web.sh reads"
import re, sys
text = open(sys.argv[1]).read()
outputs = text.split("\nOutputs:\n", 1)[1]
names = set(re.findall(r"^  ([A-Za-z0-9]+):", outputs, re.M))
wanted = {"RestApiUrl", "WebSocketUrl", "UserPoolId", "UserPoolClientId", "AuthDomain",
          "AuthAuthority", "WebBucketName", "WebDistributionId", "WebUrl"}
missing = wanted - names
if missing:
    print("missing outputs:", sorted(missing), file=sys.stderr)
    sys.exit(1)
PY

# --- Fixtures: a distribution, two stacks -------------------------------------------------
cat >"$tmp/distribution.json" <<JSON
{"CallerReference": "$run_id", "Comment": "deploy-web-test", "Enabled": true,
 "DefaultRootObject": "index.html",
 "Origins": {"Quantity": 1, "Items": [{"Id": "web-bucket",
   "DomainName": "web.s3.$region.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
 "DefaultCacheBehavior": {"TargetOriginId": "web-bucket", "ViewerProtocolPolicy": "redirect-to-https",
   "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
JSON
distribution=$(aws cloudfront create-distribution --distribution-config "file://$tmp/distribution.json" \
  --query Distribution.Id --output text)
[ -n "$distribution" ] || fail "moto made no distribution"

# The real stack's output names and shapes (RestApiUrl with a trailing slash here, to see
# it dropped). The second template has neither WebDistributionId nor AuthAuthority.
cat >"$tmp/stack.yaml" <<'YAML'
Parameters:
  DistributionId:
    Type: String
Resources:
  WebBucket:
    Type: AWS::S3::Bucket
Outputs:
  RestApiUrl:
    Value: https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/
  WebSocketUrl:
    Value: wss://hij456klmn.execute-api.us-east-1.amazonaws.com/prod
  UserPoolId:
    Value: us-east-1_TestPool1
  UserPoolClientId:
    Value: 1example23456789client
  AuthDomain:
    Value: https://messaging-1a2b3c4d.auth.us-east-1.amazoncognito.com
  AuthAuthority:
    Value: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1
  WebBucketName:
    Value: !Ref WebBucket
  WebDistributionId:
    Value: !Ref DistributionId
  WebUrl:
    Value: https://d111111abcdef8.cloudfront.net
YAML
python3 - "$tmp/stack.yaml" "$tmp/stack-bare.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = text.replace("Parameters:\n  DistributionId:\n    Type: String\n", "")
text = re.sub(r"  (WebDistributionId|AuthAuthority):\n    Value: .*\n", "", text)
open(sys.argv[2], "w").write(text)
PY

make_stack() { # name template [parameters...]
  local name=$1 template=$2
  shift 2
  aws cloudformation create-stack --stack-name "$name" --template-body "file://$template" "$@" >/dev/null
  stacks+=("$name")
  for _ in $(seq 1 30); do
    status=$(aws cloudformation describe-stacks --stack-name "$name" --query 'Stacks[0].StackStatus' --output text)
    [ "$status" = CREATE_COMPLETE ] && return 0
    case $status in *FAILED* | *ROLLBACK*) fail "stack $name: $status" ;; esac
    sleep 1
  done
  fail "stack $name not created in 30 s ($status)"
}
output() { # stack key
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}

stack=$run_id-web
make_stack "$stack" "$tmp/stack.yaml" --parameters "ParameterKey=DistributionId,ParameterValue=$distribution"
bucket=$(output "$stack" WebBucketName)
[ -n "$bucket" ] && [ "$bucket" != None ] || fail "the test stack has no bucket"
step "moto stack $stack, bucket $bucket, distribution $distribution"

# --- Builds -------------------------------------------------------------------------------
build() { # dir hash [index text]
  mkdir -p "$1/assets"
  printf '<!doctype html><script type="module" src="/assets/app-%s.js"></script>%s\n' "$2" "${3:-}" >"$1/index.html"
  printf 'console.log("%s")\n' "$2" >"$1/assets/app-$2.js"
  printf 'body{color:#123}/*%s*/\n' "$2" >"$1/assets/app-$2.css"
  printf '\0\0\1\0' >"$1/favicon.ico"
  printf 'self.addEventListener("push", () => {}) // %s\n' "$2" >"$1/sw.js"
}
build "$tmp/dist1" abc123
# A config.json in the build must not win over the stack's.
echo '{"apiBaseUrl": "http://127.0.0.1:8080"}' >"$tmp/dist1/config.json"
build "$tmp/dist2" def456 "v2"
build "$tmp/dist3" ghi789 "v3"

# Left by "earlier deploys": a file no build has, and an asset of no known build.
echo stale >"$tmp/stale.txt"
aws s3 cp --only-show-errors "$tmp/stale.txt" "s3://$bucket/stale.txt"
aws s3 cp --only-show-errors "$tmp/stale.txt" "s3://$bucket/assets/old-000000.js"

deploy_run() { # dist stack log
  if ! WEB_DIST=$1 timeout 120 "$deploy" "$2" >"$3" 2>&1; then
    cat "$3" >&2
    fail "deploy-web.sh $2 (WEB_DIST=$1) failed"
  fi
}
keys() { aws s3api list-objects-v2 --bucket "$1" --query 'Contents[].Key' --output text | tr '\t' '\n' | sort | tr '\n' ' '; }
expect_keys() { # bucket "sorted keys" what
  local actual
  actual=$(keys "$1")
  [ "$actual" = "$2 " ] || fail "$3: objects are [$actual], expected [$2 ]"
}
headers() { aws s3api head-object --bucket "$1" --key "$2" --query '[CacheControl,ContentType]' --output text; }
expect_headers() { # bucket key cache-control content-type
  local actual
  actual=$(headers "$1" "$2")
  [ "$actual" = "$3"$'\t'"$4" ] || fail "$2: Cache-Control / Content-Type are [$actual], expected [$3 / $4]"
}
expect_config() { # bucket authority
  aws s3 cp --only-show-errors "s3://$1/config.json" "$tmp/config.json"
  python3 - "$tmp/config.json" "$2" <<'PY' || fail "config.json is not what the outputs say"
import json, sys
actual = json.load(open(sys.argv[1]))
expected = {
    "apiBaseUrl": "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod",
    "wsUrl": "wss://hij456klmn.execute-api.us-east-1.amazonaws.com/prod",
    "auth": {
        "authority": sys.argv[2],
        "clientId": "1example23456789client",
        "scope": "openid profile email",
        "redirectPath": "/auth/callback",
        "postLogoutRedirectPath": "/login",
        "logoutUrl": "https://messaging-1a2b3c4d.auth.us-east-1.amazoncognito.com/logout",
        "revocationUrl": "https://messaging-1a2b3c4d.auth.us-east-1.amazoncognito.com/oauth2/revoke",
        "renewSecondsBeforeExpiry": 60,
    },
}
if actual != expected:
    print(json.dumps(actual, indent=2), file=sys.stderr)
    sys.exit(1)
PY
}
# shellcheck disable=SC2016 # backticks are a JMESPath literal, not a command
invalidations() { aws cloudfront list-invalidations --distribution-id "$distribution" --query 'length(InvalidationList.Items || `[]`)' --output text; }
# Everything a client could see: objects, their headers and ETags, config.json.
snapshot() {
  local k
  for k in $(keys "$1"); do
    echo "$k $(aws s3api head-object --bucket "$1" --key "$k" --query '[CacheControl,ContentType,ETag]' --output text)"
  done
  aws s3 cp --only-show-errors "s3://$1/config.json" -
}

immutable="public, max-age=31536000, immutable"
authority=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1

# --- First deploy -------------------------------------------------------------------------
deploy_run "$tmp/dist1" "$stack" "$tmp/run1.log"
grep -q "invalidation .* on $distribution" "$tmp/run1.log" || fail "run 1 made no invalidation: $(cat "$tmp/run1.log")"
expect_keys "$bucket" "assets/app-abc123.css assets/app-abc123.js config.json deploy-manifest.json favicon.ico index.html sw.js" \
  "first deploy (stale.txt and assets/old-000000.js deleted)"
expect_headers "$bucket" index.html "no-cache" "text/html; charset=utf-8"
expect_headers "$bucket" config.json "no-cache" "application/json"
expect_headers "$bucket" assets/app-abc123.js "$immutable" "text/javascript; charset=utf-8"
expect_headers "$bucket" assets/app-abc123.css "$immutable" "text/css; charset=utf-8"
expect_headers "$bucket" favicon.ico "public, max-age=300" "image/x-icon"
expect_headers "$bucket" sw.js "no-cache" "text/javascript; charset=utf-8"
expect_config "$bucket" "$authority"
[ "$(invalidations)" = 1 ] || fail "expected 1 invalidation, found $(invalidations)"
paths=$(aws cloudfront list-invalidations --distribution-id "$distribution" --query 'InvalidationList.Items[0].Id' --output text |
  xargs -I{} "$aws_cli" cloudfront get-invalidation --distribution-id "$distribution" --id {} \
    --query 'Invalidation.InvalidationBatch.Paths.Items' --output text | tr '\t' ' ')
[ "$paths" = "/index.html /config.json /sw.js" ] || fail "invalidated [$paths], expected [/index.html /config.json /sw.js]"
step "first deploy: objects, headers, config.json, stale objects deleted, invalidation: ok"

# --- The same build again: nothing changes ----------------------------------------------
snapshot "$bucket" >"$tmp/before"
deploy_run "$tmp/dist1" "$stack" "$tmp/run2.log"
snapshot "$bucket" >"$tmp/after"
diff -u "$tmp/before" "$tmp/after" >&2 || fail "a second run of the same build changed the bucket"
[ "$(invalidations)" = 2 ] || fail "expected 2 invalidations, found $(invalidations)"
step "second run of the same build: idempotent: ok"

# --- New builds: the previous build's assets stay one build longer -----------------------
deploy_run "$tmp/dist2" "$stack" "$tmp/run3.log"
expect_keys "$bucket" "assets/app-abc123.css assets/app-abc123.js assets/app-def456.css assets/app-def456.js config.json deploy-manifest.json favicon.ico index.html sw.js" \
  "second build (the first build's assets kept for open tabs)"
expect_headers "$bucket" assets/app-def456.js "$immutable" "text/javascript; charset=utf-8"
aws s3 cp --only-show-errors "s3://$bucket/index.html" "$tmp/index.html"
grep -q "app-def456.js" "$tmp/index.html" || fail "index.html is not the second build's"
deploy_run "$tmp/dist2" "$stack" "$tmp/run4.log"
expect_keys "$bucket" "assets/app-abc123.css assets/app-abc123.js assets/app-def456.css assets/app-def456.js config.json deploy-manifest.json favicon.ico index.html sw.js" \
  "second build again (still one previous build)"
deploy_run "$tmp/dist3" "$stack" "$tmp/run5.log"
expect_keys "$bucket" "assets/app-def456.css assets/app-def456.js assets/app-ghi789.css assets/app-ghi789.js config.json deploy-manifest.json favicon.ico index.html sw.js" \
  "third build (the first build's assets gone)"
step "new builds: previous build's assets kept once, older ones deleted: ok"

# --- No distribution output: skip the invalidation; authority from the pool id ------------
bare=$run_id-bare
make_stack "$bare" "$tmp/stack-bare.yaml"
bare_bucket=$(output "$bare" WebBucketName)
deploy_run "$tmp/dist1" "$bare" "$tmp/run6.log"
grep -q "skipping the CloudFront invalidation" "$tmp/run6.log" || fail "no skip message: $(cat "$tmp/run6.log")"
expect_config "$bare_bucket" "$authority"
expect_headers "$bare_bucket" index.html "no-cache" "text/html; charset=utf-8"
step "stack without a distribution: invalidation skipped, config.json from the pool id: ok"

# --- Refusals -------------------------------------------------------------------------------
if WEB_DIST=$tmp/no-such-dist timeout 60 "$deploy" "$stack" >"$tmp/run7.log" 2>&1; then
  fail "deploy-web.sh succeeded without a build"
fi
grep -q "make web-build" "$tmp/run7.log" || fail "no hint to build first: $(cat "$tmp/run7.log")"
if WEB_DIST=$tmp/dist1 timeout 60 "$deploy" "$run_id-no-such-stack" >"$tmp/run8.log" 2>&1; then
  fail "deploy-web.sh succeeded for a stack that does not exist"
fi
grep -q "cannot read the outputs of stack" "$tmp/run8.log" || fail "unclear error for a missing stack: $(cat "$tmp/run8.log")"
if timeout 60 "$deploy" >"$tmp/run9.log" 2>&1; then fail "deploy-web.sh succeeded without a stack name"; fi
grep -q "usage:" "$tmp/run9.log" || fail "no usage line without a stack name"
step "refusals (no build, no stack, no argument): ok"

step "all passed"
