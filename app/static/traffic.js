// The dashboard's arithmetic on /admin/stats readings: totals of the API's own traffic, the
// difference between two readings, and quantiles from cumulative histogram buckets.
// Pure functions, no page: the browser tests call them directly.
"use strict";

const GatewayTraffic = (() => {
  // The API's own traffic: the dashboard's polls and the pages themselves are left out.
  const isApi = (route) => route.startsWith("/v1/");
  const isImages = (route) => route.startsWith("/v1/images/");

  function totals(stats) {
    const byStatus = {};
    let requests = 0;
    for (const row of stats.requests || []) {
      if (!isApi(row.route)) continue;
      requests += row.count;
      byStatus[row.status] = (byStatus[row.status] || 0) + row.count;
    }
    const buckets = {};
    for (const histogram of stats.latency || []) {
      if (!isImages(histogram.route)) continue;
      for (const [le, n] of histogram.buckets) buckets[le] = (buckets[le] || 0) + n;
    }
    return { requests, byStatus, buckets, images: stats.images || 0,
      tokens: ((stats.tokens || {}).input || 0) + ((stats.tokens || {}).output || 0),
      tokensIn: (stats.tokens || {}).input || 0, tokensOut: (stats.tokens || {}).output || 0 };
  }

  function minus(now, then) {
    const byStatus = {};
    for (const status of Object.keys(now.byStatus)) {
      byStatus[status] = now.byStatus[status] - (then.byStatus[status] || 0);
    }
    const buckets = {};
    for (const le of Object.keys(now.buckets)) buckets[le] = now.buckets[le] - (then.buckets[le] || 0);
    return { requests: now.requests - then.requests, byStatus, buckets,
      images: now.images - then.images, tokens: now.tokens - then.tokens,
      tokensIn: now.tokensIn - then.tokensIn, tokensOut: now.tokensOut - then.tokensOut };
  }

  // A quantile from cumulative buckets, interpolated inside its bucket as Prometheus's
  // histogram_quantile does.
  function quantile(q, buckets) {
    const bounds = Object.keys(buckets).map((le) => [le === "+Inf" ? Infinity : Number(le), buckets[le]])
      .sort((a, b) => a[0] - b[0]);
    const total = bounds.length ? bounds[bounds.length - 1][1] : 0;
    if (total <= 0) return null;
    const rank = q * total;
    let lower = 0, below = 0;
    for (const [le, cumulative] of bounds) {
      if (cumulative >= rank) {
        if (le === Infinity) return lower;
        const inBucket = cumulative - below;
        return inBucket > 0 ? lower + (le - lower) * ((rank - below) / inBucket) : le;
      }
      lower = le;
      below = cumulative;
    }
    return lower;
  }

  function span(ms) {
    const s = Math.round(ms / 1000);
    return s < 90 ? s + " s" : Math.round(s / 60) + " min";
  }

  return { totals, minus, quantile, span };
})();
