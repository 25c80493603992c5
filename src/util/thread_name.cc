// NameThisThread (thread_name.h).
#include "util/thread_name.h"

#include <pthread.h>
#include <string>

namespace nds {

void NameThisThread(std::string_view name) {
  const std::string cut(name.substr(0, kThreadNameBytesMax));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace nds
