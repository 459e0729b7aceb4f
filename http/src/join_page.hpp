// The join page: server-rendered HTML in German or English, and its stylesheet (no script).
#pragma once

#include <string>
#include <string_view>

#include "roombus/core/model.hpp"
#include "roombus/core/ports.hpp"

namespace roombus::http::detail {

enum class Language { de, en };

// The better of German and English for an Accept-Language field (RFC 9110 q-values, ties to
// the earlier entry); English when it names neither.
Language negotiate_language(std::string_view accept_language);

// What the page says about the room's join window.
enum class JoinState { open, too_early, ended };

enum class NameError { none, empty, too_long, bad_characters };

struct JoinPage {
  Language language = Language::en;
  const core::Room* room = nullptr;  // nullptr: the link leads nowhere (the "not found" page)
  const core::TimeZone* zone = nullptr;
  core::Instant opens{};  // start - early minutes
  std::int64_t early_minutes = 30;
  JoinState state = JoinState::open;
  bool app = false;   // an `a` link (Jitsi Meet app) rather than `b` (browser)
  std::string token;  // for the link to the other variant
  std::string name;   // the name field's value
  NameError error = NameError::none;
};

std::string render_join_page(const JoinPage& page);

// The stylesheet and the icon served at /room/join/style.css and /room/join/icon.svg.
std::string_view join_stylesheet();
std::string_view join_icon();

// `text` safe inside HTML text and quoted attribute values.
std::string html_escape(std::string_view text);

inline constexpr std::size_t kMaxJoinNameCharacters = 80;

}  // namespace roombus::http::detail
