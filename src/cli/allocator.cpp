// jemalloc tuning for the gateway binary (only when linked with jemalloc).
// Freed pages are purged after one second instead of ten, so an idle
// gateway's RSS follows its live connections instead of its last burst.
#ifdef GATEHOUSE_JEMALLOC
extern "C" {
// Read by jemalloc at start (documented je_malloc_conf symbol, unprefixed on Debian).
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0,background_thread:true";
}
#endif
