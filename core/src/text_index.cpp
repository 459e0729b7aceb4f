// TextIndex: growth, insertion and backward-shift deletion of the open-addressing table.
#include "roombus/core/text_index.hpp"

#include <cassert>
#include <utility>

namespace roombus::core {

void TextIndex::insert(std::string_view text, std::int64_t number) {
  assert(number > 0);
  grow_for(size_ + 1);
  place(hash(text), number);
  ++size_;
}

void TextIndex::erase(std::string_view text, std::int64_t number) {
  if (slots_.empty()) return;
  const std::uint64_t h = hash(text);
  std::size_t hole = h & mask_;
  while (slots_[hole].number != number) {
    if (slots_[hole].number == 0) return;  // not in the index
    hole = (hole + 1) & mask_;
  }
  // Later slots of the same probe run move back into the hole unless their home slot lies
  // cyclically in (hole, j]: then a lookup starting there would still reach them.
  for (std::size_t j = (hole + 1) & mask_; slots_[j].number != 0; j = (j + 1) & mask_) {
    const std::size_t home = slots_[j].hash & mask_;
    const bool reachable = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!reachable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void TextIndex::grow_for(std::size_t count) {
  // At most 7/8 full, so that a probe ends at an empty slot after a few steps.
  if (count * 8 > slots_.size() * 7) grow_to(slots_.empty() ? 16 : slots_.size() * 2);
}

void TextIndex::reserve(std::size_t count) {
  std::size_t want = 16;
  while (count * 8 > want * 7) want *= 2;
  if (want > slots_.size()) grow_to(want);
}

void TextIndex::place(std::uint64_t h, std::int64_t number) {
  std::size_t i = h & mask_;
  while (slots_[i].number != 0) i = (i + 1) & mask_;
  slots_[i] = Slot{h, number};
}

void TextIndex::grow_to(std::size_t slot_count) {
  // Stored hashes move the slots without reading a single record.
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slot_count));
  mask_ = slot_count - 1;
  for (const Slot& s : old) {
    if (s.number != 0) place(s.hash, s.number);
  }
}

}  // namespace roombus::core
