// Asks the kernel for transparent huge pages under a large buffer about to be written.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace roombus::posix {

// Huge pages under [data, data + size) before they are first written: on a virtual machine each
// 4 KiB page fault costs microseconds, and a restart writes hundreds of MB for the first time
// (64 MB took 290 ms in small pages and 6 ms in huge ones on the benchmark machine). Advice only:
// nothing changes if it is refused, and a range smaller than one huge page is left alone.
inline void advise_huge_pages(void* data, std::size_t size) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHugePage = 2U << 20;
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto from = (reinterpret_cast<std::uintptr_t>(data) + page - 1) / page * page;
  const auto to = (reinterpret_cast<std::uintptr_t>(data) + size) / page * page;
  if (to >= from + kHugePage) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
#else
  (void)data;
  (void)size;
#endif
}

}  // namespace roombus::posix
