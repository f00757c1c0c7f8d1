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
	shards [32]idShard[V]
}

type idShard[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (m *idMap[V]) shard(id string) *idShard[V] {
	return &m.shards[maphash.String(idSeed, id)%uint64(len(m.shards))]
}

func (m *idMap[V]) load(id string) (V, bool) {
	sh := m.shard(id)
	sh.mu.Lock()
	v, ok := sh.m[id]
	sh.mu.Unlock()
	return v, ok
}

func (m *idMap[V]) store(id string, v V) {
	sh := m.shard(id)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[string]V)
	}
	sh.m[id] = v
	sh.mu.Unlock()
}

func (m *idMap[V]) delete(id string) {
	sh := m.shard(id)
	sh.mu.Lock()
	delete(sh.m, id)
	sh.mu.Unlock()
}

// deleteIf removes the entries drop reports true for; drop runs under a shard's lock and
// must not use m.
func (m *idMap[V]) deleteIf(drop func(V) bool) {
	for i := range m.shards {
		m.deleteIfIn(i, drop)
	}
}

// deleteIfIn is deleteIf for shard i (modulo the number of shards) alone.
func (m *idMap[V]) deleteIfIn(i int, drop func(V) bool) {
	sh := &m.shards[i%len(m.shards)]
	sh.mu.Lock()
	for id, v := range sh.m {
		if drop(v) {
			delete(sh.m, id)
		}
	}
	sh.mu.Unlock()
}
