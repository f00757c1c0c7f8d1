package slackemu

import (
	"hash/maphash"
	"sync"
)

var idSeed = maphash.MakeSeed()

// idMap maps the ids the emulator hands out (envelope ids, trigger_ids, response_urls) to
// what they stand for. Every command adds one of each, and response_urls live for half an
// hour, so at thousands of commands a second these maps are large and written constantly:
// sharded plain maps cost far less per insert than a sync.Map's trie, and the janitor
// sweeps one shard at a time.
type idMap[V any] struct {
	shardedMap[string, V]
}

// numMap is idMap for ids that carry a number unique to them (a sequence number, or a
// random one made unique), keyed by it: no string to make and keep per id, and a cheaper
// map. The caller checks that an id it looks up is written exactly as the one it issued.
type numMap[V any] struct {
	shardedMap[uint64, V]
}

type shardedMap[K comparable, V any] struct {
	shards [32]idShard[K, V]
}

type idShard[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (m *idMap[V]) shard(id string) *idShard[string, V] {
	return &m.shards[maphash.String(idSeed, id)%uint64(len(m.shards))]
}

func (m *idMap[V]) load(id string) (V, bool) { return m.shard(id).load(id) }
func (m *idMap[V]) store(id string, v V)     { m.shard(id).store(id, v) }
func (m *idMap[V]) delete(id string)         { m.shard(id).delete(id) }

// loadAndDeleteIf loads id's value and deletes it if del, run under the shard's lock,
// reports true: one lookup where load and delete were two.
func (m *idMap[V]) loadAndDeleteIf(id string, del func(V) bool) (v V, ok, deleted bool) {
	sh := m.shard(id)
	sh.mu.Lock()
	if v, ok = sh.m[id]; ok && del(v) {
		delete(sh.m, id)
		deleted = true
	}
	sh.mu.Unlock()
	return v, ok, deleted
}

// shard: the keys are sequence numbers or random, either way spread evenly.
func (m *numMap[V]) shard(k uint64) *idShard[uint64, V] {
	return &m.shards[k%uint64(len(m.shards))]
}

func (m *numMap[V]) load(k uint64) (V, bool) { return m.shard(k).load(k) }
func (m *numMap[V]) store(k uint64, v V)     { m.shard(k).store(k, v) }

// storeNew stores v under k unless k is taken; it reports whether it did.
func (m *numMap[V]) storeNew(k uint64, v V) bool {
	sh := m.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, taken := sh.m[k]; taken {
		return false
	}
	sh.storeLocked(k, v)
	return true
}

func (sh *idShard[K, V]) load(k K) (V, bool) {
	sh.mu.Lock()
	v, ok := sh.m[k]
	sh.mu.Unlock()
	return v, ok
}

func (sh *idShard[K, V]) store(k K, v V) {
	sh.mu.Lock()
	sh.storeLocked(k, v)
	sh.mu.Unlock()
}

func (sh *idShard[K, V]) storeLocked(k K, v V) {
	if sh.m == nil {
		sh.m = make(map[K]V)
	}
	sh.m[k] = v
}

func (sh *idShard[K, V]) delete(k K) {
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// deleteIf removes the entries drop reports true for; drop runs under a shard's lock and
// must not use m.
func (m *shardedMap[K, V]) deleteIf(drop func(V) bool) {
	for i := range m.shards {
		m.deleteIfIn(i, drop)
	}
}

// deleteIfIn is deleteIf for shard i (modulo the number of shards) alone.
func (m *shardedMap[K, V]) deleteIfIn(i int, drop func(V) bool) {
	sh := &m.shards[i%len(m.shards)]
	sh.mu.Lock()
	for id, v := range sh.m {
		if drop(v) {
			delete(sh.m, id)
		}
	}
	sh.mu.Unlock()
}
