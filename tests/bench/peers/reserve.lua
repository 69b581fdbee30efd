-- Atomic reservation of ARGV[1] units of the SKU hash KEYS[1], with a ledger
-- entry appended to the stream KEYS[2] (its id is the entry's unique id).
-- 1 reserved, 0 not enough available, -1 unknown SKU.
local q = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'on_hand', 'reserved')
if not v[1] then return -1 end
if tonumber(v[1]) - tonumber(v[2] or 0) < q then return 0 end
redis.call('HINCRBY', KEYS[1], 'reserved', q)
redis.call('XADD', KEYS[2], '*', 'sku', KEYS[1], 'delta', q, 'kind', 'reserve')
return 1
