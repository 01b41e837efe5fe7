-- wrk script: request the paths listed in a file in turn (from a random starting point),
-- and print a one-line JSON summary when done.
--   wrk -t1 -c16 -d10s -s cycle.lua http://127.0.0.1:PORT -- paths.txt
local list, n, pos = {}, 0, 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then n = n + 1; list[n] = line end
  end
  pos = math.random(n) - 1
end

function request()
  pos = (pos % n) + 1
  return wrk.format("GET", list[pos])
end

-- No response() callback: it would make wrk parse every response in Lua. Status
-- codes >= 400 are counted by wrk itself (errors.status).
function done(s, lat, req)
  local e = s.errors
  print(string.format('WRK {"requests": %d, "seconds": %.6f, "bytes": %d, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "errors": %d}',
    s.requests, s.duration / 1e6, s.bytes, lat:percentile(50) / 1e3, lat:percentile(90) / 1e3,
    lat:percentile(99) / 1e3, lat.max / 1e3, e.connect + e.read + e.write + e.status + e.timeout))
end
