// What the writer and the reads share of the schema: the cursors' keys and the last position.
#pragma once

#include <cstdint>
#include <string_view>

#include "sqlite_db.hpp"

namespace roombus::sqlite::detail {

// Subscribers' cursors live in `meta` under this prefix: an additive use of the version-2 schema,
// so a log stays readable by the release before.
inline constexpr std::string_view kCursorPrefix = "cursor:";

std::int64_t last_position_of(Connection& db);

}  // namespace roombus::sqlite::detail
