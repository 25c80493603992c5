// The dashboard's static files (src/api/ui/), compiled into the binary by cmake/EmbedFiles.cmake
// so that every node serves them with no file to install and nothing fetched from elsewhere.
#pragma once

#include <span>
#include <string_view>

namespace nds::api {

struct UiAsset {
  std::string_view name;   // the file's name under src/api/ui/, e.g. "app.js"
  std::string_view bytes;  // its content
};

std::span<const UiAsset> UiAssets();

}  // namespace nds::api
