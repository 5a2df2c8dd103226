-- One durable write per request, for cluster/bench.sh: etcd's POST /v3/kv/put or Vigil's PUT /api/v1/settings/KEY,
-- 256-byte values over 1,000 keys. BENCH_KIND (etcd | vigil) and BENCH_TOKEN (Vigil's bearer token) come from the
-- environment. Requests are formatted once per thread, so wrk spends its time on the sockets, not in Lua.
-- done() prints one JSON line with the counts and the latency percentiles (microseconds).
local kind = os.getenv("BENCH_KIND") or "vigil"
local token = os.getenv("BENCH_TOKEN") or ""
local keyCount = 1000
local requests = {}
local counter = 0

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(data)
    local out = {}
    for i = 1, #data, 3 do
        local a, b, c = data:byte(i, i + 2)
        local n = a * 65536 + (b or 0) * 256 + (c or 0)
        local chunk = {}
        for shift = 18, 0, -6 do
            local index = math.floor(n / 2 ^ shift) % 64
            chunk[#chunk + 1] = alphabet:sub(index + 1, index + 1)
        end
        if not b then chunk[3], chunk[4] = "=", "=" elseif not c then chunk[4] = "=" end
        out[#out + 1] = table.concat(chunk)
    end
    return table.concat(out)
end

function init(args)
    local value = string.rep("v", 256)
    for i = 0, keyCount - 1 do
        local key = string.format("bench-%04d", i)
        if kind == "etcd" then
            requests[i] = wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" },
                '{"key":"' .. base64(key) .. '","value":"' .. base64(value) .. '"}')
        else
            requests[i] = wrk.format("PUT", "/api/v1/settings/" .. key,
                { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
                '{"value":"' .. value .. '"}')
        end
    end
end

function request()
    counter = counter + 1
    return requests[counter % keyCount]
end

function done(summary, latency, _)
    local errors = summary.errors
    io.write(string.format(
        '{"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
        summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
        latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
