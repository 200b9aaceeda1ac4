-- wrk script of the load benchmark (benchmarks/load.py starts wrk with it).
--
-- Environment:
--   BENCH_MIX      dashboard | dashboard_ceiling | dashboard_physical | apq | submit |
--                  submit_ceiling | login | budget_view | budget_change | payment_view |
--                  payment_change | pdf
--   BENCH_DATA     accounts, one per line: token TAB meter TAB last value in litres TAB e-mail
--                  (the pdf mix: token TAB download path TAB size in bytes TAB e-mail)
--   BENCH_MANDATE  the SEPA mandate version the payment_change mix accepts
--   BENCH_THREADS  wrk's -t (each thread takes every n-th account, so no two share one)
--   BENCH_QUERY    file with the operation's document as a JSON string literal
--   BENCH_PATH     request path (the APQ mix: /graphql?extensions=...)
--   BENCH_RUN      run id, part of every idempotency key
--   BENCH_PASSWORD the accounts' password (login mix)
--   BENCH_SAMPLE   file that receives the first failed response, for the report
--
-- A response counts as an error unless it is 200 and has no GraphQL error
-- (no `"errors":[{`); a login also needs its token; a PDF must start with %PDF- and
-- be as long as its Content-Length. done() prints one line
-- `BENCH_RESULT {json}` with counts and latency percentiles in microseconds.

local mix = os.getenv("BENCH_MIX")
local data_path = os.getenv("BENCH_DATA")
local query_path = os.getenv("BENCH_QUERY")
local path = os.getenv("BENCH_PATH") or "/graphql"
local run = os.getenv("BENCH_RUN") or "run"
local password = os.getenv("BENCH_PASSWORD") or ""
local sample_path = os.getenv("BENCH_SAMPLE")
local mandate = os.getenv("BENCH_MANDATE") or ""
local ibans = { "DE89370400440532013000", "DE02120300000000202051" }

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local rows = {}
local count = 0
local sent = 0
local query = ""
errors = 0
sample = ""

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local line_no = 0
  for line in io.lines(data_path) do
    if line_no % nthreads == id then
      local token, meter, base, email = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
      table.insert(rows, { token = token, meter = meter, base = tonumber(base), email = email, k = 0 })
    end
    line_no = line_no + 1
  end
  count = #rows
  if query_path then
    local file = io.open(query_path)
    query = file:read("*a")
    file:close()
  end
end

local function headers_for(row)
  local headers = { ["Accept"] = "application/json" }
  if row then
    headers["Authorization"] = "Bearer " .. row.token
  end
  return headers
end

local function value_of(litres)
  return string.format("%d.%03d", math.floor(litres / 1000), litres % 1000)
end

function request()
  sent = sent + 1
  local row = rows[(sent % count) + 1]
  if mix == "dashboard" or mix == "budget_view" or mix == "payment_view" then
    local headers = headers_for(row)
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/graphql", headers, '{"query":' .. query .. "}")
  elseif mix == "dashboard_ceiling" then
    return wrk.format("GET", "/bench/dashboard", headers_for(row))
  elseif mix == "dashboard_physical" then
    return wrk.format("GET", "/bench/dashboard/physical", headers_for(row))
  elseif mix == "pdf" then
    return wrk.format("GET", row.meter, headers_for(nil))
  elseif mix == "budget_change" then
    local headers = headers_for(row)
    headers["Content-Type"] = "application/json"
    local amount = 60 + (id * 7 + sent) % 100  -- 60-159 euros: in the plan's bounds, never its 50
    local body = '{"query":' .. query .. ',"variables":{"input":{"amount":"' .. amount .. '"}}}'
    return wrk.format("POST", "/graphql", headers, body)
  elseif mix == "payment_change" then
    row.k = row.k + 1
    local headers = headers_for(row)
    headers["Content-Type"] = "application/json"
    local body = '{"query":' .. query .. ',"variables":{"input":{"method":"DIRECT_DEBIT","iban":"'
      .. ibans[(row.k % 2) + 1] .. '","accountHolder":"Bench Kunde","acceptedMandateVersion":"'
      .. mandate .. '","currentPassword":"' .. password .. '"}}}'
    return wrk.format("POST", "/graphql", headers, body)
  elseif mix == "apq" then
    return wrk.format("GET", path, headers_for(row))
  elseif mix == "submit" or mix == "submit_ceiling" then
    row.k = row.k + 1
    local headers = headers_for(row)
    headers["Content-Type"] = "application/json"
    local key = run .. "-" .. mix .. "-" .. id .. "-" .. sent
    local body = '{"query":' .. query .. ',"variables":{"input":{"meterNumber":"' .. row.meter
      .. '","value":"' .. value_of(row.base + row.k) .. '","idempotencyKey":"' .. key .. '"}}}'
    local target = mix == "submit" and "/graphql" or "/bench/submit"
    return wrk.format("POST", target, headers, body)
  elseif mix == "login" then
    local headers = headers_for(nil)
    headers["Content-Type"] = "application/json"
    local body = '{"query":' .. query .. ',"variables":{"input":{"email":"' .. row.email
      .. '","password":"' .. password .. '"}}}'
    return wrk.format("POST", "/graphql", headers, body)
  end
end

function response(status, headers, body)
  local bad = status ~= 200
  if not bad then
    if mix == "login" then
      bad = not body:find('"token":"', 1, true)
    elseif mix == "pdf" then
      local length = tonumber(headers["content-length"] or headers["Content-Length"] or "-1")
      bad = body:sub(1, 5) ~= "%PDF-" or #body ~= length
    else
      bad = body:find('"errors":[{', 1, true) ~= nil
    end
  end
  if bad then
    errors = errors + 1
    if sample == "" then
      sample = status .. " " .. body:sub(1, 400)
    end
  end
end

function done(summary, latency, requests)
  local failed = 0
  local first = ""
  for _, thread in ipairs(threads) do
    failed = failed + tonumber(thread:get("errors"))
    local s = thread:get("sample")
    if first == "" and s and s ~= "" then
      first = s
    end
  end
  if sample_path and first ~= "" then
    local file = io.open(sample_path, "w")
    file:write(first)
    file:close()
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"errors":%d,"socket_errors":%d,'
      .. '"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, failed,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
