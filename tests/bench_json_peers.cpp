/* tests/bench_json_peers.cpp - simdjson (DOM and On-Demand) and cJSON for make bench-json,
   behind a C interface (tests/bench_json.c times them, in the same run as lambda_runtime.h).
   Test-only: Debian's libsimdjson-dev and libcjson-dev; the header needs neither. */
#include <simdjson.h>
#include <cjson/cJSON.h>
#include <string.h>

static simdjson::padded_string *doc_;
static simdjson::dom::parser *dom_;
static simdjson::ondemand::parser *od_;

extern "C" int peers_load(const char *s, size_t n)
{
    doc_ = new simdjson::padded_string(s, n);
    dom_ = new simdjson::dom::parser();
    od_ = new simdjson::ondemand::parser();
    return dom_->allocate(n) == simdjson::SUCCESS ? 0 : -1;
}

/* DOM parse: validates the whole document (and builds its tape) */
extern "C" int peers_simdjson_dom(void)
{
    simdjson::dom::element e;
    return dom_->parse(*doc_).get(e) == simdjson::SUCCESS ? 0 : -1;
}

/* On-Demand: one JSON Pointer, its string value's length (-1 on error) */
extern "C" long peers_simdjson_pointer(const char *ptr)
{
    simdjson::ondemand::document d;
    std::string_view v;
    if (od_->iterate(*doc_).get(d) != simdjson::SUCCESS) return -1;
    if (d.at_pointer(ptr).get_string().get(v) != simdjson::SUCCESS) return -1;
    return (long)v.size();
}

/* On-Demand: iterate Records, s3.object.key of each, unescaped; the keys' total length */
extern "C" long peers_simdjson_iterate(void)
{
    simdjson::ondemand::document d;
    simdjson::ondemand::array recs;
    long total = 0;
    if (od_->iterate(*doc_).get(d) != simdjson::SUCCESS) return -1;
    if (d["Records"].get_array().get(recs) != simdjson::SUCCESS) return -1;
    for (auto r : recs) {
        simdjson::ondemand::object o;
        std::string_view k;
        if (r.get_object().get(o) != simdjson::SUCCESS) return -1;
        if (o["s3"]["object"]["key"].get_string().get(k) != simdjson::SUCCESS) return -1;
        total += (long)k.size();
    }
    return total;
}

extern "C" int peers_cjson_parse(const char *s, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    if (!j) return -1;
    cJSON_Delete(j);
    return 0;
}

/* the kernel simdjson chose for this CPU (haswell: AVX2, icelake: AVX-512, westmere: SSE4.2) */
extern "C" const char *peers_simdjson_kernel(void)
{
    return simdjson::get_active_implementation()->name().c_str();
}
