-- wrk script: replays the realistic mix written by load/run.py (one request a line:
-- METHOD<TAB>PATH<TAB>BODY; HXGET is a GET sent by htmx), each thread from its own
-- offset. The session cookie and
-- the CSRF header come from wrk's -H options. Prints one JSON line at the end.
local threads = {}
local requests = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads * 997)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("LOAD_REQUESTS")) do
    local method, path, body = line:match("^(%S+)\t(%S+)\t?(.*)$")
    local headers = {}  -- wrk.format replaces wrk.headers (-H) when given a table
    for name, value in pairs(wrk.headers) do headers[name] = value end
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      headers["HX-Request"] = "true"
    else
      body = nil
    end
    if method == "HXGET" then  -- a navigation made by htmx in the page: same URL, header set
      method = "GET"
      headers["HX-Request"] = "true"
      headers["HX-Current-URL"] = "http://127.0.0.1/"
    end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  counter = offset or 0
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
