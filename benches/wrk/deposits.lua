-- wrk script: deposits of 1 to a random one of ACCOUNTS accounts (acct-0 ..), each under an
-- Idempotency-Key of its own. ADMIN_KEY is the server's admin key.
--   ACCOUNTS=64 ADMIN_KEY=... wrk -t 2 -c 32 -d 10s -s benches/wrk/deposits.lua http://127.0.0.1:8080
local accounts = tonumber(os.getenv("ACCOUNTS") or "64")
local admin_key = os.getenv("ADMIN_KEY") or "bench"
local sent = 0
local threads = 0

-- Keys differ between threads and between runs against the same database.
setup = function(thread)
  threads = threads + 1
  thread:set("run", tostring(os.time()) .. "-" .. threads)
end

request = function()
  sent = sent + 1
  local body = '{"account":"acct-' .. math.random(0, accounts - 1) .. '","amount":"1"}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. admin_key,
    ["Idempotency-Key"] = run .. "-" .. sent,
  }
  return wrk.format("POST", "/v1/deposits", headers, body)
end
