// Status propagation macros. Debian's Abseil (20220623) ships none, so the
// project defines this one pair, here, and uses it everywhere.
#ifndef ZEN_BASE_STATUS_MACROS_H_
#define ZEN_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define ZEN_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status zen_status_ = (expr);       \
    if (!zen_status_.ok()) return zen_status_; \
  } while (false)

#define ZEN_STATUS_CONCAT_INNER_(a, b) a##b
#define ZEN_STATUS_CONCAT_(a, b) ZEN_STATUS_CONCAT_INNER_(a, b)

// `ZEN_ASSIGN_OR_RETURN(auto x, F());` evaluates F() (an absl::StatusOr<T>),
// returns its status on error, and otherwise moves its value into `x`.
#define ZEN_ASSIGN_OR_RETURN(lhs, expr)                                        \
  ZEN_ASSIGN_OR_RETURN_IMPL_(ZEN_STATUS_CONCAT_(zen_statusor_, __LINE__), lhs, \
                             expr)

#define ZEN_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                               \
  if (!var.ok()) return std::move(var).status();   \
  lhs = std::move(var).value()

#endif  // ZEN_BASE_STATUS_MACROS_H_
