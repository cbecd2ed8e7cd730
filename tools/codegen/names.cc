#include "tools/codegen/names.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace zen::codegen {
namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Replace(std::string_view text, char from, std::string_view to) {
  std::string out;
  for (char c : text) {
    if (c == from) {
      out.append(to);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string SnakeCase(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (IsUpper(c)) {
      const bool after_lower_or_digit =
          i > 0 && (IsLower(name[i - 1]) || IsDigit(name[i - 1]));
      const bool ends_acronym = i > 0 && IsUpper(name[i - 1]) &&
                                i + 1 < name.size() && IsLower(name[i + 1]);
      if ((after_lower_or_digit || ends_acronym) && out.back() != '_') {
        out.push_back('_');
      }
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string CppTypeName(std::string_view proto_full_name) {
  return "::" + Replace(proto_full_name, '.', "::");
}

std::string CppNamespace(std::string_view package) {
  return Replace(package, '.', "::");
}

std::string StripProto(std::string_view path) {
  constexpr std::string_view kSuffix = ".proto";
  if (path.size() >= kSuffix.size() &&
      path.substr(path.size() - kSuffix.size()) == kSuffix) {
    path.remove_suffix(kSuffix.size());
  }
  return std::string(path);
}

std::string HeaderGuard(std::string_view header_path) {
  std::string guard;
  for (char c : header_path) {
    if (IsLower(c)) {
      guard.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if (IsUpper(c) || IsDigit(c)) {
      guard.push_back(c);
    } else {
      guard.push_back('_');
    }
  }
  return guard + "_";
}

bool IsCppKeyword(std::string_view name) {
  static constexpr std::string_view kKeywords[] = {
      "alignas",       "alignof",     "and",
      "and_eq",        "asm",         "auto",
      "bitand",        "bitor",       "bool",
      "break",         "case",        "catch",
      "char",          "char16_t",    "char32_t",
      "char8_t",       "class",       "compl",
      "concept",       "const",       "const_cast",
      "consteval",     "constexpr",   "constinit",
      "continue",      "co_await",    "co_return",
      "co_yield",      "decltype",    "default",
      "delete",        "do",          "double",
      "dynamic_cast",  "else",        "enum",
      "explicit",      "export",      "extern",
      "false",         "float",       "for",
      "friend",        "goto",        "if",
      "inline",        "int",         "long",
      "mutable",       "namespace",   "new",
      "noexcept",      "not",         "not_eq",
      "nullptr",       "operator",    "or",
      "or_eq",         "private",     "protected",
      "public",        "register",    "reinterpret_cast",
      "requires",      "return",      "short",
      "signed",        "sizeof",      "static",
      "static_assert", "static_cast", "struct",
      "switch",        "template",    "this",
      "thread_local",  "throw",       "true",
      "try",           "typedef",     "typeid",
      "typename",      "union",       "unsigned",
      "using",         "virtual",     "void",
      "volatile",      "wchar_t",     "while",
      "xor",           "xor_eq",
  };
  return std::find(std::begin(kKeywords), std::end(kKeywords), name) !=
         std::end(kKeywords);
}

}  // namespace zen::codegen
