-- wrk script: POST one body per request with unique event ids, and count acknowledged events.
--   BODY=single|batch10|batch100|cobi|product|segment100|data5000  KEY=live_... (sk_... for data5000)
--   wrk -s bench/wrk/post.lua URL
-- Each thread numbers its events; ids are UUID v4 built from (thread, run, counter), never repeated.
-- acked, refused and tid are globals: wrk's thread:get and thread:set reach only a thread's globals.
-- `product` views a product of the generated shop (PRODUCTS products, VISITORS visitors: bench/ingest.py);
-- `data5000` posts new transactions to Cobi's Data API, each RECORD (a JSON object with %s for its id).
local threads = {}
local counter = 0
acked, refused = 0, 0
local kind = os.getenv("BODY") or "single"
local run = tonumber(os.getenv("RUN") or "0")
local size = ({single = 1, batch10 = 10, batch100 = 100, cobi = 1, product = 1, segment100 = 100,
               data5000 = 5000})[kind]
local products = tonumber(os.getenv("PRODUCTS") or "1000")
local visitors = tonumber(os.getenv("VISITORS") or "1000")
local record = os.getenv("RECORD") or "{}"
local paths = {cobi = "/user-interactions", segment100 = "/segment/v1/batch", data5000 = "/v1/data/transactions"}
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

local function product_view()
  local id = uuid()
  return '{"event_id":"' .. id .. '","user":{"anonymous_id":"v' .. (counter * 7919 % visitors) ..
    '"},"event":{"type":"pageview","subtype":"product","product_id":"p' .. (counter * 31 % products) ..
    '"},"context":{"session_id":"s' .. (counter % 1000) .. '","page_url":"https://shop.example/"}}'
end

local function interaction()
  return '{"event_id":"' .. uuid() .. '","interaction_type":"PAGE_VIEW","item_type":"SHOP",' ..
    '"item_id":"550e8400-e29b-41d4-a716-446655440000","event_timestamp":"2026-11-20T10:00:00Z"}'
end

local function message()
  local id = uuid()
  return '{"type":"track","event":"Products Searched","messageId":"' .. id .. '","anonymousId":"a' .. counter ..
    '","properties":{"query":"t' .. (counter % 97) .. '"},"timestamp":"2026-11-20T10:00:00.000Z",' ..
    '"sentAt":"2026-11-20T10:00:00.100Z","context":{"library":{"name":"analytics.js","version":"next-1.84.3"},' ..
    '"page":{"url":"https://shop.example/search?q=t","path":"/search"}}}'
end

local function many(make, field)
  local parts = {}
  for i = 1, size do parts[i] = make() end
  return '{"' .. field .. '":[' .. table.concat(parts, ",") .. ']}'
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  wrk.path = paths[kind] or "/v1/events"
end

function request()
  local body
  if kind == "cobi" then
    body = interaction()
  elseif kind == "product" then
    body = product_view()
  elseif kind == "segment100" then
    body = many(message, "batch")
  elseif kind == "data5000" then
    body = many(function() return string.format(record, uuid()) end, "records")
  elseif size == 1 then
    body = event()
  else
    body = many(event, "events")
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
