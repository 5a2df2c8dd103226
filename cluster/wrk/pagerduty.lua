-- An alert storm for cluster/storm-bench.sh: PagerDuty Events v2 triggers, half of them new alerts (a dedup key
-- never sent before) and half repeats of 1,000 keys (dedup updates of open tickets). BENCH_ROUTING_KEY names the
-- integration key. Each thread counts the 202s it got; done() prints one JSON line with the counts and latency
-- percentiles (microseconds), which the bench checks against the tickets' alert counts.
local routingKey = os.getenv("BENCH_ROUTING_KEY") or ""
local threads = {}
local counter = 0
accepted = 0 -- global: done() reads it from each thread with thread:get
local prefix = ""

function setup(thread)
    thread:set("id", #threads + 1)
    threads[#threads + 1] = thread
end

function init(args)
    prefix = "t" .. tostring(id) .. "-"
end

local function body(dedup)
    return '{"routing_key":"' .. routingKey .. '","event_action":"trigger","dedup_key":"' .. dedup
        .. '","payload":{"summary":"storm ' .. dedup .. '","source":"storm-bench","severity":"critical"}}'
end

function request()
    counter = counter + 1
    local dedup
    if counter % 2 == 0 then
        dedup = "new-" .. prefix .. counter
    else
        dedup = "repeat-" .. (counter % 1000)
    end
    return wrk.format("POST", "/v2/enqueue", { ["Content-Type"] = "application/json" }, body(dedup))
end

function response(status, headers, body)
    if status == 202 then accepted = accepted + 1 end
end

function done(summary, latency, _)
    local total = 0
    for _, thread in ipairs(threads) do total = total + (thread:get("accepted") or 0) end
    local errors = summary.errors
    io.write(string.format(
        '{"requests":%d,"accepted":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
        summary.requests, total, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
        latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
