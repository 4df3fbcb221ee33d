/* A one-function Node addon for the benchmark (bench/peers/bind_node.js):
 * threadCpuNs() is the calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID),
 * which Node 20 does not expose. Built by bench.py with cc against Node's headers. */
#include <node_api.h>
#include <time.h>

static napi_value thread_cpu_ns(napi_env env, napi_callback_info info) {
	(void)info;
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	napi_value out;
	napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, &out);
	return out;
}

static napi_value init(napi_env env, napi_value exports) {
	napi_value fn;
	napi_create_function(env, "threadCpuNs", NAPI_AUTO_LENGTH, thread_cpu_ns, NULL, &fn);
	napi_set_named_property(env, exports, "threadCpuNs", fn);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
