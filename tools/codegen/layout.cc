#include "tools/codegen/layout.h"

#include <cstddef>

namespace zen::codegen {
namespace {

using Lines = std::vector<std::string>;

bool Fits(const std::string& line) {
  return static_cast<int>(line.size()) <= kColumnLimit;
}

bool AllFit(const Lines& lines) {
  for (const std::string& line : lines) {
    if (!Fits(line)) return false;
  }
  return true;
}

std::string Join(const Lines& lines) {
  std::string out;
  for (const std::string& line : lines) {
    out += line;
    out += '\n';
  }
  return out;
}

// Splits an argument (followed by `suffix`: "," or the call's tail) that is
// too long for a line starting at `indent`, going on at indent + 4:
// between its type and its name if the type fits; else, for a template
// type, after its "<" (type arguments and name on lines of their own); else
// after the last "::" that leaves a fitting first part. Returns false if
// none fits.
bool SplitPiece(const std::string& arg, const std::string& suffix, int indent,
                Lines* lines) {
  const std::string pad(indent, ' ');
  const std::string more(indent + 4, ' ');
  // A default argument ("options = {}") keeps its name.
  const size_t equals = arg.find(" = ");
  const size_t space = arg.rfind(
      ' ', equals == std::string::npos ? std::string::npos : equals - 1);
  if (space != std::string::npos) {
    const std::string type = arg.substr(0, space);
    const std::string name = arg.substr(space + 1) + suffix;
    if (Fits(pad + type) && Fits(more + name)) {
      lines->push_back(pad + type);
      lines->push_back(more + name);
      return true;
    }
    const size_t angle = type.find('<');
    if (angle != std::string::npos && type.back() == '>' &&
        Fits(pad + type.substr(0, angle + 1)) &&
        Fits(more + type.substr(angle + 1)) && Fits(more + name)) {
      lines->push_back(pad + type.substr(0, angle + 1));
      lines->push_back(more + type.substr(angle + 1));
      lines->push_back(more + name);
      return true;
    }
  }
  const std::string piece = arg + suffix;
  for (size_t colons = piece.rfind("::");
       colons != std::string::npos && colons > 0;
       colons = piece.rfind("::", colons - 1)) {
    const std::string first = pad + piece.substr(0, colons + 2);
    const std::string rest = more + piece.substr(colons + 2);
    if (Fits(first)) {
      if (!Fits(rest)) return false;
      lines->push_back(first);
      lines->push_back(rest);
      return true;
    }
  }
  return false;
}

// Packs `args` greedily: the first on `first` (which already holds what
// precedes it), the others appended while they fit, else on a new line at
// `indent`. clang-format's bin-packing of parameters and arguments. With
// `split`, an argument too long for a line of its own is split (SplitPiece).
Lines Pack(std::string first, int indent, const Lines& args,
           std::string_view tail, bool split) {
  Lines lines;
  std::string line = std::move(first);
  bool line_has_arg = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string suffix =
        i + 1 == args.size() ? std::string(tail) : std::string(",");
    const std::string piece = args[i] + suffix;
    if (line_has_arg && Fits(line + " " + piece)) {
      line += " " + piece;
      continue;
    }
    if (line_has_arg) {
      lines.push_back(line);
      line = std::string(indent, ' ');
    }
    line_has_arg = true;
    if (split && !Fits(line + piece) &&
        static_cast<int>(line.size()) == indent) {
      Lines parts;
      if (SplitPiece(args[i], suffix, indent, &parts)) {
        lines.insert(lines.end(), parts.begin(), parts.end() - 1);
        line = parts.back();
        // Nothing more goes on a split argument's last line.
        if (i + 1 < args.size()) {
          lines.push_back(line);
          line = std::string(indent, ' ');
          line_has_arg = false;
        }
        continue;
      }
    }
    line += piece;
  }
  if (args.empty()) line += std::string(tail);
  lines.push_back(line);
  return lines;
}

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(' ') == std::string::npos;
}

}  // namespace

std::string LayoutCall(int indent, std::string_view prefix,
                       std::string_view name,
                       const std::vector<std::string>& args,
                       std::string_view tail, CallKind kind) {
  const std::string pad(indent, ' ');
  std::string lead = pad;
  if (!prefix.empty()) {
    lead += prefix;
    lead += ' ';
  }
  const std::string head = lead + std::string(name) + '(';

  std::string one_line = head;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) one_line += ", ";
    one_line += args[i];
  }
  one_line += tail;
  if (Fits(one_line)) return one_line + '\n';

  const Lines aligned =
      Pack(head, static_cast<int>(head.size()), args, tail, false);
  Lines broken = {head};
  if (args.empty()) broken.back() += std::string(tail);
  for (std::string& line :
       Pack(std::string(indent + 4, ' '), indent + 4, args, tail, true)) {
    if (!args.empty()) broken.push_back(std::move(line));
  }
  const bool aligned_fits = AllFit(aligned);
  const bool broken_fits = AllFit(broken);
  if (aligned_fits && (!broken_fits || aligned.size() <= broken.size())) {
    return Join(aligned);
  }
  if (broken_fits) return Join(broken);
  if (kind == CallKind::kDeclaration && !prefix.empty()) {
    std::string rest = LayoutCall(indent, "", name, args, tail, kind);
    if (AllFit({pad + std::string(prefix)})) {
      return pad + std::string(prefix) + '\n' + rest;
    }
  }
  const size_t angle = name.find('<');
  if (kind == CallKind::kStatement && angle != std::string_view::npos &&
      Fits(lead + std::string(name.substr(0, angle + 1)))) {
    // f<\n    T>(\n    args);
    Lines lines = {lead + std::string(name.substr(0, angle + 1)),
                   std::string(indent + 4, ' ') +
                       std::string(name.substr(angle + 1)) + "("};
    for (std::string& line :
         Pack(std::string(indent + 4, ' '), indent + 4, args, tail, true)) {
      lines.push_back(std::move(line));
    }
    return Join(lines);
  }
  // Nothing fits: names longer than a line. Still valid code.
  return Join(broken);
}

std::string LayoutAssignment(int indent, std::string_view lhs,
                             std::string_view rhs) {
  const std::string pad(indent, ' ');
  std::string line = pad + std::string(lhs) + " = " + std::string(rhs) + ";";
  if (Fits(line)) return line + '\n';
  return pad + std::string(lhs) + " =\n" + std::string(indent + 4, ' ') +
         std::string(rhs) + ";\n";
}

std::string LayoutComment(int indent, const std::vector<std::string>& lines) {
  const std::string pad = std::string(indent, ' ') + "//";
  const int width = kColumnLimit - indent - 3;  // After "// ".
  std::string out;
  size_t i = 0;
  while (i < lines.size()) {
    if (IsBlank(lines[i])) {
      out += pad + '\n';
      ++i;
      continue;
    }
    // A paragraph: lines up to the next blank one.
    size_t end = i;
    bool overflows = false;
    while (end < lines.size() && !IsBlank(lines[end])) {
      if (static_cast<int>(lines[end].size()) > width) overflows = true;
      ++end;
    }
    if (!overflows) {
      for (; i < end; ++i) out += pad + " " + lines[i] + '\n';
      continue;
    }
    // Re-wrap the paragraph greedily, keeping its first line's indentation.
    const std::string lead(lines[i].find_first_not_of(' '), ' ');
    std::string line;
    for (; i < end; ++i) {
      size_t pos = 0;
      const std::string& text = lines[i];
      while (pos < text.size()) {
        const size_t start = text.find_first_not_of(' ', pos);
        if (start == std::string::npos) break;
        size_t stop = text.find(' ', start);
        if (stop == std::string::npos) stop = text.size();
        const std::string word = text.substr(start, stop - start);
        if (line.empty()) {
          line = lead + word;
        } else if (static_cast<int>(line.size() + 1 + word.size()) <= width) {
          line += " " + word;
        } else {
          out += pad + " " + line + '\n';
          line = lead + word;
        }
        pos = stop;
      }
    }
    if (!line.empty()) out += pad + " " + line + '\n';
  }
  return out;
}

std::vector<std::string> CommentLines(std::string_view comment) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= comment.size()) {
    size_t end = comment.find('\n', pos);
    if (end == std::string_view::npos) end = comment.size();
    std::string line(comment.substr(pos, end - pos));
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    while (!line.empty() &&
           (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.pop_back();
    }
    lines.push_back(std::move(line));
    pos = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  while (!lines.empty() && lines.front().empty()) lines.erase(lines.begin());
  return lines;
}

}  // namespace zen::codegen
