-- wrk script for the AI Hub bench: POSTs the body and headers given in the environment and prints one JSON
-- line of results at the end (wrk's own summary has no machine-readable form).
-- BENCH_HEADER="name: value" adds a header; BENCH_UNIQUE=1 makes every body unique (the first message's
-- content gets " #<n>" appended), for cache-miss runs.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = os.getenv("BENCH_AUTH")
local extra = os.getenv("BENCH_HEADER")
if extra and extra ~= "" then
  local name, value = extra:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end

if os.getenv("BENCH_UNIQUE") == "1" then
  local counter = 0
  local prefix, suffix = wrk.body:match('^(.-"content":"[^"]*)(".*)$')
  request = function()
    counter = counter + 1
    return wrk.format(nil, nil, nil, prefix .. " #" .. counter .. suffix)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"meanUs":%f,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99)))
end
