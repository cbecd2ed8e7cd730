#include "proto/zen/agent/worker_agent_zenrpc_test_fixture.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace zen::agent {

int CountArrayElements(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(json).get(array) != simdjson::SUCCESS) return 0;
  return static_cast<int>(array.size());
}

std::vector<std::string> FrameElements(const std::string& frame) {
  simdjson::padded_string padded(frame);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  std::vector<std::string> elements;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(array)) {
    ADD_FAILURE() << "not a JSON array: " << frame;
    return elements;
  }
  bool first = true;
  for (auto element : array) {
    simdjson::ondemand::value value;
    simdjson::ondemand::json_type type;
    if (std::move(element).get(value) || value.type().get(type)) {
      ADD_FAILURE() << "bad element in " << frame;
      return elements;
    }
    std::string_view text;
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == simdjson::ondemand::json_type::string) {
      error = value.get_string().get(text);
    } else if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object object;
      error = value.get_object().get(object);
      if (!error) error = object.raw_json().get(text);
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array inner;
      error = value.get_array().get(inner);
      if (!error) error = inner.raw_json().get(text);
    } else {
      text = value.raw_json_token();
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    }
    if (error) {
      ADD_FAILURE() << "bad element in " << frame;
      return elements;
    }
    if (first) {
      EXPECT_FALSE(text.empty()) << "empty id in " << frame;
      first = false;
      continue;
    }
    elements.emplace_back(text);
  }
  return elements;
}

std::vector<std::string> SplitRequest(const std::string& frame) {
  std::vector<std::string> elements = FrameElements(frame);
  if (elements.size() != 3) {
    ADD_FAILURE() << "not a request frame: " << frame;
    return {"", "", ""};
  }
  return elements;
}

std::vector<std::string> SplitResponse(const std::string& frame) {
  std::vector<std::string> elements = FrameElements(frame);
  if (elements.size() != 2) {
    ADD_FAILURE() << "not a response frame: " << frame;
    return {"", ""};
  }
  return elements;
}

}  // namespace zen::agent
