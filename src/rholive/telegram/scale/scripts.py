"""The Lua scripts: each runs atomically in Redis, so no two workers ever see a half-done step."""

from __future__ import annotations

# KEYS[1] lease; ARGV token, ms. Taken when free or already ours (a retried call after a lost reply).
LEASE_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS[1] lease; ARGV token, ms. Renewed only by its holder.
LEASE_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS[1] lease; ARGV token. Compare-and-delete: never frees a lease another worker took meanwhile.
LEASE_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS seen, notes, work; ARGV update id, update JSON, chat id, seen ttl s, notes ttl s.
# Once per update id (a front retrying after a lost reply adds nothing); the note and the work item together.
ENQUEUE = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[4]) then return 0 end
redis.call('XADD', KEYS[2], '*', 'update_id', ARGV[1], 'update', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('XADD', KEYS[3], '*', 'chat', ARGV[3])
return 1
"""

# KEYS global bucket, chat pace[, chat lease]; ARGV global rate (sends/s, 0: none), per-chat interval ms
# [, lease token]. Returns 0 when one send may go now (and counts it), else the milliseconds to wait; -1 when
# the chat's lease is no longer the sender's (it stalled past it: another worker answers now). Redis's clock,
# so workers on several machines share one time line.
PACE = """
if KEYS[3] and redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local chat_next = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat_next > now then return chat_next - now end
local rate = tonumber(ARGV[1])
if rate > 0 then
  local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or rate
  local at = tonumber(bucket[2]) or now
  tokens = math.min(rate, tokens + math.max(0, now - at) * rate / 1000)
  if tokens < 1 then
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
    return math.max(1, math.ceil((1 - tokens) * 1000 / rate))
  end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
end
local interval = tonumber(ARGV[2])
if interval > 0 then redis.call('SET', KEYS[2], now + interval, 'PX', interval) end
return 0
"""

# KEYS chat pace; ARGV ms. Telegram said 429 retry_after: nothing to this chat from any worker until then.
HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', ARGV[1])
return 1
"""
