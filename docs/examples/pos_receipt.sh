#!/usr/bin/env bash
# Send one receipt to the POS API with curl, signed as the contract says (needs openssl).
#   POS_URL=https://mall.example.com POS_TERMINAL=pos_… POS_SECRET=… ./pos_receipt.sh
# Without POS_TERMINAL and POS_SECRET it signs as the demo till that `make run` loads.
set -euo pipefail
terminal=${POS_TERMINAL:-pos_demo_s01}
secret=${POS_SECRET:-demo-secret-not-for-production}
url=${POS_URL:-http://127.0.0.1:8000}
path=/api/pos/v1/receipts
now=${POS_OCCURRED_AT:-$(TZ=Asia/Shanghai date +%Y-%m-%dT%H:%M:%S+08:00)}
receipt_no=${POS_RECEIPT_NO:-$(date +%Y%m%d-%H%M%S)}
member=null
[ -n "${POS_CARD_NO:-}" ] && member="{\"card_no\": \"$POS_CARD_NO\"}"
body=$(cat <<JSON
{"store": "${POS_STORE:-S01}", "pos_no": "P03", "receipt_no": "$receipt_no",
 "occurred_at": "$now", "member": $member,
 "lines": [{"sku": "6901234567890", "name": "连衣裙", "spec": "M 蓝", "brand": "某品牌",
            "category": "女装", "qty": 1, "amount_fen": 29900, "non_merchandise": false}],
 "payments": [{"method": "wechat", "amount_fen": 29900}],
 "total_fen": 29900, "coupons": [], "refund_of": null}
JSON
)
timestamp=$(date +%s)
nonce=$(openssl rand -hex 16)
body_hash=$(printf '%s' "$body" | openssl dgst -sha256 -r | cut -d' ' -f1)
signature=$(printf 'POST\n%s\n%s\n%s\n%s' "$path" "$timestamp" "$nonce" "$body_hash" \
  | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS -i --fail-with-body "$url$path" \
  -H 'Content-Type: application/json' \
  -H "X-Pos-Terminal: $terminal" \
  -H "X-Pos-Timestamp: $timestamp" \
  -H "X-Pos-Nonce: $nonce" \
  -H "X-Pos-Signature: $signature" \
  --data-binary "$body"
