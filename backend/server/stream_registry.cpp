#include "server/stream_registry.h"

#include <algorithm>

namespace depot::server {

void StreamBase::release() {
  bool destroy = false;
  {
    std::lock_guard lock(m_mutex);
    destroy = --m_refs == 0 && m_done;
  }
  if (destroy) delete this;
}

void StreamBase::markDone() {
  bool destroy = false;
  {
    std::lock_guard lock(m_mutex);
    m_done = true;
    destroy = m_refs == 0;
  }
  if (destroy) delete this;
}

bool StreamRegistry::add(StreamBase* stream) {
  std::lock_guard lock(m_mutex);
  if (m_stopping) return false;
  m_streams.push_back(stream);
  return true;
}

void StreamRegistry::remove(StreamBase* stream) {
  std::lock_guard lock(m_mutex);
  auto it = std::find(m_streams.begin(), m_streams.end(), stream);
  if (it != m_streams.end()) m_streams.erase(it);
}

void StreamRegistry::stopAll() {
  std::vector<StreamBase*> open;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    open = m_streams;
    // A retained stream cannot be deleted until we release it below, even
    // if it finishes and unregisters meanwhile.
    for (auto* s : open) s->retain();
  }
  for (auto* s : open) {
    s->stopForShutdown();
    s->release();
  }
}

bool StreamRegistry::stopping() const {
  std::lock_guard lock(m_mutex);
  return m_stopping;
}

std::size_t StreamRegistry::size() const {
  std::lock_guard lock(m_mutex);
  return m_streams.size();
}

}  // namespace depot::server
