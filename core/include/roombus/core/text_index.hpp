// TextIndex: text -> positive number, an open-addressing table of (hash, number) slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace roombus::core {

// Finds records by a text they hold (a room by its uid, a remembered outcome by its command id)
// without storing the text again: a slot holds the text's hash and the record's number, and a
// lookup reads a record's text only when the hashes match. A std::unordered_map of the same
// cost a node per record (48+ bytes with its bucket) and two cache misses per lookup, a few per
// cent of every create on a state of 500k rooms. Slots hold numbers, not pointers, so a copy of
// the index is valid for a copy of the records.
//
// Linear probing, at most 7/8 full; erase shifts later slots back (no tombstones).
// Not thread-safe; owned by its records' owner.
class TextIndex {
 public:
  TextIndex() = default;
  TextIndex(const TextIndex&) = default;
  TextIndex& operator=(const TextIndex&) = default;
  // A moved-from index is empty (not merely without slots), so it can be used again.
  TextIndex(TextIndex&& other) noexcept
      : slots_(std::exchange(other.slots_, {})),
        mask_(std::exchange(other.mask_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  TextIndex& operator=(TextIndex&& other) noexcept {
    slots_ = std::exchange(other.slots_, {});
    mask_ = std::exchange(other.mask_, 0);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  ~TextIndex() = default;

  // The number stored for `text`, or 0. `text_of(number)` is the text of a record in the index.
  template <class TextOf>
  std::int64_t find(std::string_view text, const TextOf& text_of) const {
    if (slots_.empty()) return 0;
    const std::uint64_t h = hash(text);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.number == 0) return 0;
      if (s.hash == h && text_of(s.number) == text) return s.number;
    }
  }

  // Adds `text` -> `number` (> 0); the caller has checked that `text` is absent.
  void insert(std::string_view text, std::int64_t number);
  // Adds `text` (whose hash() is `h`) -> `number` (> 0) unless `text` is there already, and then
  // returns the number it has; 0 when added. One probe instead of a find() and an insert(): a
  // restart indexes every room and must refuse a duplicate uid.
  template <class TextOf>
  std::int64_t insert_unique(std::uint64_t h, std::string_view text, std::int64_t number,
                             const TextOf& text_of) {
    grow_for(size_ + 1);
    std::size_t i = h & mask_;
    for (; slots_[i].number != 0; i = (i + 1) & mask_) {
      if (slots_[i].hash == h && text_of(slots_[i].number) == text) return slots_[i].number;
    }
    slots_[i] = Slot{h, number};
    ++size_;
    return 0;
  }
  // Starts loading the slot where a search for a text with hash `h` begins. A bulk load hashes
  // a few texts ahead and prefetches their slots: the table is larger than the caches, and a
  // miss for every text was most of a restart's indexing time.
  void prefetch(std::uint64_t h) const {
#if defined(__GNUC__)
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
#else
    (void)h;
#endif
  }
  static std::uint64_t hash(std::string_view text) { return std::hash<std::string_view>{}(text); }
  // Removes `text` -> `number`, which must be in the index.
  void erase(std::string_view text, std::int64_t number);
  void reserve(std::size_t count);
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::int64_t number = 0;  // 0: empty
  };
  // Grows the table, if need be, so that it can hold `count` texts.
  void grow_for(std::size_t count);
  void place(std::uint64_t h, std::int64_t number);
  void grow_to(std::size_t slot_count);

  std::vector<Slot> slots_;  // a power of two in size
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace roombus::core
