// Line layout of generated code, so that it comes out the way clang-format
// (Google style, 80 columns) would leave it. These reproduce clang-format's
// choices for the shapes the emitters produce; a golden test runs
// clang-format over the goldens to keep them honest.
#ifndef ZEN_TOOLS_CODEGEN_LAYOUT_H_
#define ZEN_TOOLS_CODEGEN_LAYOUT_H_

#include <string>
#include <string_view>
#include <vector>

namespace zen::codegen {

inline constexpr int kColumnLimit = 80;

// What LayoutCall lays out: a function declaration or definition, whose
// prefix is a return type that may go on a line of its own, or a statement
// (a call, `return f(...)`, a variable's constructor call).
enum class CallKind { kDeclaration, kStatement };

// Lays out `prefix name(arg, arg, ...)tail` at `indent` (tail is what
// follows the last argument, e.g. ");" or ") {"; prefix may be empty). In
// clang-format's order of preference: on one line; arguments packed and
// aligned after "("; a break after "(" and arguments packed at indent + 4
// (whichever of the two takes fewer lines). An argument too long for a line
// is split between its type and its name, or else after its last "::",
// going on at 4 more columns. A declaration whose return type and name leave
// no room gets the return type on a line of its own; a statement whose
// templated name is too long breaks after its "<". Names too long for any of
// this come out valid but wider than the limit, where clang-format would
// break them further. Returns the lines, each ending in '\n'.
std::string LayoutCall(int indent, std::string_view prefix,
                       std::string_view name,
                       const std::vector<std::string>& args,
                       std::string_view tail,
                       CallKind kind = CallKind::kStatement);

// `lhs = rhs;` at `indent`, broken after " =" when too long.
std::string LayoutAssignment(int indent, std::string_view lhs,
                             std::string_view rhs);

// A comment block at `indent`, "// " before each line (blank lines become
// "//"). Lines that would pass the column limit are re-wrapped with the rest
// of their paragraph; others are kept as written.
std::string LayoutComment(int indent, const std::vector<std::string>& lines);

// Splits a proto comment (SourceLocation::leading_comments) into lines,
// dropping the one space protoc keeps after "//" and trailing blank lines.
std::vector<std::string> CommentLines(std::string_view comment);

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_LAYOUT_H_
