-- wrk script: POST one body per request with unique event ids, and count acknowledged events.
--   BODY=single|batch10|batch100|cobi  KEY=live_...  wrk -s bench/wrk/post.lua URL
-- Each thread numbers its events; ids are UUID v4 built from (thread, run, counter), never repeated.
-- acked, refused and tid are globals: wrk's thread:get and thread:set reach only a thread's globals.
local threads = {}
local counter = 0
acked, refused = 0, 0
local kind = os.getenv("BODY") or "single"
local run = tonumber(os.getenv("RUN") or "0")
local size = ({single = 1, batch10 = 10, batch100 = 100, cobi = 1})[kind]
local started = 0

function setup(thread)
  started = started + 1
  thread:set("tid", started)
  table.insert(threads, thread)
end

local function uuid()
  counter = counter + 1
  return string.format("%08x-%04x-4%03x-8%03x-%012x", run, tid, 0, 0, counter)
end

local function event()
  return '{"event_id":"' .. uuid() .. '","user":{"anonymous_id":"a' .. counter ..
    '"},"event":{"type":"search","term":"t' .. (counter % 97) .. '"},"context":{"session_id":"s' ..
    (counter % 1000) .. '","page_url":"https://shop.example/search?q=t"}}'
end

local function interaction()
  return '{"event_id":"' .. uuid() .. '","interaction_type":"PAGE_VIEW","item_type":"SHOP",' ..
    '"item_id":"550e8400-e29b-41d4-a716-446655440000","event_timestamp":"2026-11-20T10:00:00Z"}'
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  if kind == "cobi" then wrk.path = "/user-interactions" else wrk.path = "/v1/events" end
end

function request()
  local body
  if kind == "cobi" then
    body = interaction()
  elseif size == 1 then
    body = event()
  else
    local parts = {}
    for i = 1, size do parts[i] = event() end
    body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then acked = acked + size else refused = refused + 1 end
end

function done(summary, latency, requests)
  local total, bad = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("acked")
    bad = bad + thread:get("refused")
  end
  io.write(string.format('RESULT {"acked_events": %d, "refused_requests": %d, "requests": %d, ' ..
    '"seconds": %f, "p50_ms": %f, "p99_ms": %f, "socket_errors": %d}\n',
    total, bad, summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
