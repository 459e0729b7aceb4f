// A JSON object read like a form: each member a text value, as both v1 doors (HTTP JSON bodies,
// Kafka command `data`) take their parameters.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roombus::json {

// Members in document order: strings as they are, integers in decimal, other numbers in their
// shortest round-trip form, booleans "1" and "0" (PHP's casts); null is "not given" and left
// out; an array or an object is "given, but not a single value" (nullopt), which the v1 handlers
// refuse by name. A member may repeat: the last one counts, as in a form.
using FlatFields = std::vector<std::pair<std::string, std::optional<std::string>>>;

// `object` must be a JSON object value.
FlatFields flat_fields(const rapidjson::Value& object);

// The text of one member of `fields` (the last of that name): nullopt when absent; the inner
// nullopt when it was an array or an object.
std::optional<std::optional<std::string>> find_field(const FlatFields& fields,
                                                     std::string_view name);

}  // namespace roombus::json
