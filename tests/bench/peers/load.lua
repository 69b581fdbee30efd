-- Loads ARGV[1] SKUs as hashes stock:<12-digit sku> (redis-benchmark's
-- __rand_int__ key format, SKUs 0..n-1), on_hand = ARGV[2], reserved = 0,
-- and empties the ledger stream KEYS[1].
local n = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
for i = 0, n - 1 do
  redis.call('HSET', string.format('stock:%012d', i), 'on_hand', ARGV[2], 'reserved', 0)
end
return n
