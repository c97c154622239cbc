#ifndef SWITCHBOARD_CCURL_SHIM_H
#define SWITCHBOARD_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
// these typed wrappers are the only way the transport sets options.

typedef size_t (*sb_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode sb_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sb_curl_setopt_callback(CURL *handle, CURLoption option, sb_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline long sb_curl_response_code(CURL *handle) {
    long code = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static inline CURLMcode sb_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

static inline int sb_curl_message_is_done(const CURLMsg *message) {
    return message->msg == CURLMSG_DONE;
}

static inline CURLcode sb_curl_message_result(const CURLMsg *message) {
    return message->data.result;
}

#endif
