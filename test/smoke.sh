#!/usr/bin/env bash
# Smoke test through the public CLI only, the way a user's CI would drive cellctl:
# up with 3 cells → customers through the router → health → migrate one and read it back →
# kill a cell: only its customers fail, and it comes back → stop → no process left.
# Prints each step; exits non-zero at the first failure, with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1 CI=${CI:-true}

HOME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cellctl-smoke-XXXXXX")
CELLCTL=(node bin/cellctl.js --home "$HOME_DIR/ws")
started=$(date +%s)
step=0

say() { step=$((step + 1)); printf '\n[smoke %d] %s\n' "$step" "$*"; }
die() { printf '\n[smoke] FAILED at step %d: %s\n' "$step" "$*" >&2; exit 1; }
cleanup() {
  "${CELLCTL[@]}" stop --timeout 5 >/dev/null 2>&1 || true
  for pid in $(grep -lz "CELLCTL_HOME=$HOME_DIR" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$HOME_DIR"
}
trap cleanup EXIT

# A free port P with P+1 free too (the router's public and admin ports).
port=$(node -e '
const net = require("net");
const free = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(false)); s.listen(p, "127.0.0.1", () => s.close(() => ok(true))); });
(async () => { for (let p = 21000 + Math.floor(Math.random() * 20000); ; p += 2) if (await free(p) && await free(p + 1)) { console.log(p); break; } })();')
ROUTER="http://127.0.0.1:$port"

# http METHOD PATH [BODY] → prints "STATUS CELL" (the cell that answered, from x-cellctl-cell)
http() {
  node -e '
const [method, url, body] = process.argv.slice(1);
fetch(url, { method, headers: body ? { "content-type": "application/json" } : {}, body: body || undefined })
  .then(async (r) => { await r.text(); console.log(r.status, r.headers.get("x-cellctl-cell") || "-"); })
  .catch((e) => { console.log(0, "-"); });' "$1" "$ROUTER$2" "${3:-}"
}
json() { node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const v=JSON.parse(d);console.log(eval(process.argv[1]))})' "$1"; }

say "cellctl up: 3 cells, router on $port, 30 customers"
"${CELLCTL[@]}" init --router-port "$port" >/dev/null 2>&1 || die "init failed"
# A slower first restart, so the smoke test can watch the killed cell while it is down.
node -e 'const f=process.argv[1];const s=require(f);s.supervisor.backoffInitialMs=5000;require("fs").writeFileSync(f,JSON.stringify(s,null,2))' "$HOME_DIR/ws/cellctl.json"
"${CELLCTL[@]}" up --cells 3 --customers 30 || die "cellctl up failed"

say "create customers through the router"
for id in smoke-a smoke-b smoke-c; do
  read -r status cell < <(http POST "/api/customers/$id" "{\"name\":\"$id\",\"email\":\"$id@example.com\"}")
  [ "$status" = 201 ] || die "POST /api/customers/$id answered $status"
  echo "  $id → $cell"
done

say "cellctl health"
"${CELLCTL[@]}" health || die "health check failed"

say "migrate one customer and read it back through the router"
from=$("${CELLCTL[@]}" route smoke-a --json | json 'v.cell')
to=$([ "$from" = cell-1 ] && echo cell-2 || echo cell-1)
"${CELLCTL[@]}" migrate customer smoke-a --to "$to" || die "migrate smoke-a $from → $to failed"
read -r status cell < <(http GET /api/customers/smoke-a)
[ "$status" = 200 ] && [ "$cell" = "$to" ] || die "after the move, GET smoke-a answered $status from $cell (expected 200 from $to)"
echo "  smoke-a moved $from → $to and is served by $cell"
"${CELLCTL[@]}" audit || die "audit found misplaced rows"

say "kill cell-3: only its customers fail while it is down, and it comes back"
victim_pid=$("${CELLCTL[@]}" status --json | json 'v.cells.find(c=>c.id==="cell-3").pid')
kill -9 "$victim_pid" || die "could not kill cell-3 (pid $victim_pid)"
sleep 0.3
"${CELLCTL[@]}" customers --json > "$HOME_DIR/customers.json"
# Every customer at once (one process, parallel requests), while cell-3 is still down.
verdict=$(node -e '
const customers = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
Promise.all(customers.map(async (c) => {
  const r = await fetch(process.argv[2] + "/api/customers/" + c.id).catch(() => ({ status: 0 }));
  const ok = c.cellId === "cell-3" ? r.status === 503 : r.status === 200;
  return ok ? null : `customer ${c.id} of ${c.cellId} answered ${r.status} (expected ${c.cellId === "cell-3" ? 503 : 200})`;
})).then((problems) => console.log(problems.filter(Boolean).join("; ") || "ok"));' "$HOME_DIR/customers.json" "$ROUTER")
[ "$verdict" = ok ] || die "$verdict"
echo "  customers of cell-3 got 503; every other customer got 200"
for _ in $(seq 1 100); do "${CELLCTL[@]}" health >/dev/null 2>&1 && break; sleep 0.2; done
"${CELLCTL[@]}" health || die "cell-3 did not come back"
restarts=$("${CELLCTL[@]}" status --json | json 'v.cells.find(c=>c.id==="cell-3").restarts')
[ "$restarts" = 1 ] || die "cell-3 shows $restarts restarts (expected 1)"
echo "  cell-3 is back (restarts: $restarts)"

say "stop: no process left"
pids=$(grep -lz "CELLCTL_HOME=$HOME_DIR" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | tr '\n' ' ')
"${CELLCTL[@]}" stop || die "stop failed"
for pid in $pids; do
  state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  # A zombie has exited; it only waits for its parent (here, init) to collect its status.
  [ -n "$state" ] && [ "${state#Z}" = "$state" ] && die "process $pid is still running after stop: $(ps -o pid,stat,args -p "$pid" | tail -1)"
done
left=$(grep -lz "CELLCTL_HOME=$HOME_DIR" /proc/[0-9]*/environ 2>/dev/null | wc -l)
[ "$left" = 0 ] || die "$left process(es) of the workspace still running"

printf '\n[smoke] passed: %d steps in %d s\n' "$step" "$(( $(date +%s) - started ))"
