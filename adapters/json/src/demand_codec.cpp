// Demand codec: one rapidjson::Writer pass over the forecast.
#include "roombus/json/demand_codec.hpp"

#include "codec_support.hpp"

namespace roombus::json {

std::string encode_demand(const core::Demand& demand) {
  rapidjson::StringBuffer out(nullptr, 128 + demand.buckets.size() * 64);
  detail::JsonWriter w(out);
  w.StartObject();
  w.Key("server_id");
  w.Int64(demand.server_id);
  w.Key("at");
  detail::write_instant(w, demand.at);
  w.Key("bucket_minutes");
  w.Int64(demand.bucket.count());
  w.Key("buckets");
  w.StartArray();
  for (const core::DemandBucket& b : demand.buckets) {
    w.StartObject();
    w.Key("start");
    detail::write_instant(w, b.start);
    w.Key("rooms");
    w.Int64(b.rooms);
    w.Key("participants");
    w.Int64(b.participants);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace roombus::json
