-- Beaconing, scored with RITA's published beacon analysis (activecm/rita, analysis/beacons.go, default
-- weights and parameters of default_config.hjson), on accepted VPC flow records from a private source to a
-- public destination (one flow record ~ one connection: the interval is a flow's `start`, the size its
-- `bytes`). A pair is (source address, destination address, destination port, protocol); pairs with fewer
-- than 4 distinct start times (3 intervals) are not scored, as in RITA. The observation window is the span of
-- the flows read (a scheduled run's window), split into 24 equal bins.
--   ts score   = mean of (1 - |Bowley skew|) and MAD score of the intervals between distinct start times;
--                Bowley skew = (Q1 + Q3 - 2 Q2) / (Q3 - Q1), taken as 0 when Q3 - Q1 < 10 s or Q2 equals Q1 or Q3;
--                MAD score = (median - MAD) / median (MAD = median absolute deviation about the median), >= 0,
--                1 when the median interval is under 1 s.
--   ds score   = the same over the byte counts (MAD score 0 when the median is under 1 byte).
--   hist score = max(1 - coefficient of variation of the 24 bin counts (0 when CV > 1), bimodal fit): the
--                bimodal fit groups bins by count in buckets of ceil(5% of the largest count) and is the share
--                of busy bins in the two most common buckets (one outlier bin forgiven), when 11+ bins are busy.
--   dur score  = when 6+ bins are busy: max(coverage = (last - first start) / window span, longest run of
--                consecutive busy bins, wrapping around, / 12), each capped at 1; else 0.
--   score      = 0.25 ts + 0.25 ds + 0.25 hist + 0.25 dur, rounded to 3 decimals.
-- Threshold: score >= min_score (default 0.70), RITA's default "low" threshold (its bands: base 0.50, low 0.70, medium 0.90,
-- high 1.00); the detail gives the band and every subscore.
-- Quartiles and medians are approx_percentile: exact nearest-rank values on the embedded engine, Athena's
-- approximation in AWS; RITA interpolates quartiles (median of halves), so scores can differ from RITA's by a
-- few thousandths. Everything here is standard Trino SQL (lag, row_number, approx_percentile) that the
-- embedded engine runs through the compatibility layer.
WITH flows AS (
  SELECT
    srcaddr,
    dstaddr,
    coalesce(dstport, -1) AS dstport,
    coalesce(protocol, -1) AS protocol,
    "start" AS t,
    bytes,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM vpc_flow_logs
  WHERE action = 'ACCEPT'
    AND coalesce(log_status, 'OK') = 'OK'
    AND "start" IS NOT NULL
    AND bytes IS NOT NULL
    AND regexp_like(lower(coalesce(srcaddr, '')), '^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:')
    AND NOT regexp_like(lower(coalesce(dstaddr, '')), '^$|^(10|127|0)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^(22[4-9]|2[3-5][0-9])\.|^f[cd][0-9a-f]{2}:|^fe[89ab][0-9a-f]:|^ff[0-9a-f]{2}:|^::1?$')
    AND coalesce(flow_direction, 'egress') = 'egress'
),
span AS (
  SELECT min(t) AS t0, max(t) AS t1 FROM flows
),
pairs AS (
  SELECT
    srcaddr, dstaddr, dstport, protocol,
    count(*) AS connections,
    count(DISTINCT t) AS stamps,
    min(t) AS first_t,
    max(t) AS last_t,
    min(time) AS first_time,
    max(time) AS last_time,
    min_by(evidence_key, pick) AS evidence_key,
    min_by(evidence_record, pick) AS evidence_record
  FROM flows
  GROUP BY srcaddr, dstaddr, dstport, protocol
  HAVING count(DISTINCT t) >= 4
),
pair_flows AS (
  SELECT f.srcaddr, f.dstaddr, f.dstport, f.protocol, f.t, f.bytes
  FROM flows f
  JOIN pairs p ON p.srcaddr = f.srcaddr AND p.dstaddr = f.dstaddr AND p.dstport = f.dstport AND p.protocol = f.protocol
),
distinct_stamps AS (
  SELECT DISTINCT srcaddr, dstaddr, dstport, protocol, t FROM pair_flows
),
gaps AS (
  SELECT srcaddr, dstaddr, dstport, protocol,
    t - lag(t) OVER (PARTITION BY srcaddr, dstaddr, dstport, protocol ORDER BY t) AS gap
  FROM distinct_stamps
),
gap_quartiles AS (
  SELECT srcaddr, dstaddr, dstport, protocol,
    approx_percentile(gap, 0.25) AS q1, approx_percentile(gap, 0.5) AS q2, approx_percentile(gap, 0.75) AS q3
  FROM gaps
  WHERE gap IS NOT NULL
  GROUP BY srcaddr, dstaddr, dstport, protocol
),
gap_mad AS (
  SELECT g.srcaddr, g.dstaddr, g.dstport, g.protocol, approx_percentile(abs(g.gap - q.q2), 0.5) AS mad
  FROM gaps g
  JOIN gap_quartiles q ON q.srcaddr = g.srcaddr AND q.dstaddr = g.dstaddr AND q.dstport = g.dstport AND q.protocol = g.protocol
  WHERE g.gap IS NOT NULL
  GROUP BY g.srcaddr, g.dstaddr, g.dstport, g.protocol
),
size_quartiles AS (
  SELECT srcaddr, dstaddr, dstport, protocol,
    approx_percentile(bytes, 0.25) AS q1, approx_percentile(bytes, 0.5) AS q2, approx_percentile(bytes, 0.75) AS q3
  FROM pair_flows
  GROUP BY srcaddr, dstaddr, dstport, protocol
),
size_mad AS (
  SELECT f.srcaddr, f.dstaddr, f.dstport, f.protocol, approx_percentile(abs(f.bytes - q.q2), 0.5) AS mad
  FROM pair_flows f
  JOIN size_quartiles q ON q.srcaddr = f.srcaddr AND q.dstaddr = f.dstaddr AND q.dstport = f.dstport AND q.protocol = f.protocol
  GROUP BY f.srcaddr, f.dstaddr, f.dstport, f.protocol
),
bins AS (
  SELECT f.srcaddr, f.dstaddr, f.dstport, f.protocol,
    least(CAST(floor(CAST(f.t - s.t0 AS double) * 24 / CAST(nullif(s.t1 - s.t0, 0) AS double)) AS integer), 23) AS bin,
    count(*) AS c
  FROM pair_flows f
  CROSS JOIN span s
  GROUP BY f.srcaddr, f.dstaddr, f.dstport, f.protocol, least(CAST(floor(CAST(f.t - s.t0 AS double) * 24 / CAST(nullif(s.t1 - s.t0, 0) AS double)) AS integer), 23)
),
histogram AS (
  SELECT srcaddr, dstaddr, dstport, protocol,
    count(*) AS busy,
    sum(c) AS total,
    sum(c * c) AS total_sq,
    max(c) AS tallest
  FROM bins
  GROUP BY srcaddr, dstaddr, dstport, protocol
),
frequency AS (
  SELECT b.srcaddr, b.dstaddr, b.dstport, b.protocol,
    floor(CAST(b.c AS double) / ceil(CAST(h.tallest AS double) * 0.05)) AS bucket,
    count(*) AS bars
  FROM bins b
  JOIN histogram h ON h.srcaddr = b.srcaddr AND h.dstaddr = b.dstaddr AND h.dstport = b.dstport AND h.protocol = b.protocol
  GROUP BY b.srcaddr, b.dstaddr, b.dstport, b.protocol, floor(CAST(b.c AS double) / ceil(CAST(h.tallest AS double) * 0.05))
),
top_two AS (
  SELECT srcaddr, dstaddr, dstport, protocol, sum(bars) AS bars
  FROM (
    SELECT frequency.*, row_number() OVER (PARTITION BY srcaddr, dstaddr, dstport, protocol ORDER BY bars DESC, bucket) AS r
    FROM frequency
  ) ranked
  WHERE r <= 2
  GROUP BY srcaddr, dstaddr, dstport, protocol
),
islands AS (
  SELECT srcaddr, dstaddr, dstport, protocol, min(bin) AS lo, max(bin) AS hi, count(*) AS len
  FROM (
    SELECT bins.*, bin - row_number() OVER (PARTITION BY srcaddr, dstaddr, dstport, protocol ORDER BY bin) AS island
    FROM bins
  ) numbered
  GROUP BY srcaddr, dstaddr, dstport, protocol, island
),
runs AS (
  SELECT srcaddr, dstaddr, dstport, protocol,
    least(greatest(max(len), coalesce(max(CASE WHEN lo = 0 THEN len END), 0) + coalesce(max(CASE WHEN hi = 23 THEN len END), 0)), 24) AS longest
  FROM islands
  GROUP BY srcaddr, dstaddr, dstport, protocol
),
subscores AS (
  SELECT
    p.*,
    gq.q2 AS median_gap,
    sq.q2 AS median_bytes,
    h.busy,
    r.longest,
    round((
      (1 - abs(CASE WHEN gq.q3 - gq.q1 >= 10 AND gq.q2 <> gq.q1 AND gq.q2 <> gq.q3 THEN CAST(gq.q1 + gq.q3 - 2 * gq.q2 AS double) / (gq.q3 - gq.q1) ELSE 0 END))
      + CASE WHEN gq.q2 >= 1 THEN greatest(CAST(gq.q2 - gm.mad AS double) / gq.q2, 0) ELSE 1 END
    ) / 2 * 1000) / 1000 AS ts_score,
    round((
      (1 - abs(CASE WHEN sq.q3 - sq.q1 >= 10 AND sq.q2 <> sq.q1 AND sq.q2 <> sq.q3 THEN CAST(sq.q1 + sq.q3 - 2 * sq.q2 AS double) / (sq.q3 - sq.q1) ELSE 0 END))
      + CASE WHEN sq.q2 >= 1 THEN greatest(CAST(sq.q2 - sm.mad AS double) / sq.q2, 0) ELSE 0 END
    ) / 2 * 1000) / 1000 AS ds_score,
    greatest(
      CASE WHEN sqrt(greatest(CAST(h.total_sq AS double) / 24 - power(CAST(h.total AS double) / 24, 2), 0)) / (CAST(h.total AS double) / 24) > 1 THEN 0
        ELSE round((1 - sqrt(greatest(CAST(h.total_sq AS double) / 24 - power(CAST(h.total AS double) / 24, 2), 0)) / (CAST(h.total AS double) / 24)) * 1000) / 1000 END,
      CASE WHEN h.busy >= 11 THEN least(round(CAST(t2.bars AS double) / greatest(h.busy - 1, 1) * 1000) / 1000, 1) ELSE 0 END
    ) AS hist_score,
    CASE WHEN h.busy >= 6 THEN greatest(
      least(ceil(CAST(p.last_t - p.first_t AS double) / (s.t1 - s.t0) * 1000) / 1000, 1),
      least(ceil(CAST(r.longest AS double) / 12 * 1000) / 1000, 1)
    ) ELSE 0 END AS dur_score
  FROM pairs p
  CROSS JOIN span s
  JOIN gap_quartiles gq ON gq.srcaddr = p.srcaddr AND gq.dstaddr = p.dstaddr AND gq.dstport = p.dstport AND gq.protocol = p.protocol
  JOIN gap_mad gm ON gm.srcaddr = p.srcaddr AND gm.dstaddr = p.dstaddr AND gm.dstport = p.dstport AND gm.protocol = p.protocol
  JOIN size_quartiles sq ON sq.srcaddr = p.srcaddr AND sq.dstaddr = p.dstaddr AND sq.dstport = p.dstport AND sq.protocol = p.protocol
  JOIN size_mad sm ON sm.srcaddr = p.srcaddr AND sm.dstaddr = p.dstaddr AND sm.dstport = p.dstport AND sm.protocol = p.protocol
  JOIN histogram h ON h.srcaddr = p.srcaddr AND h.dstaddr = p.dstaddr AND h.dstport = p.dstport AND h.protocol = p.protocol
  JOIN top_two t2 ON t2.srcaddr = p.srcaddr AND t2.dstaddr = p.dstaddr AND t2.dstport = p.dstport AND t2.protocol = p.protocol
  JOIN runs r ON r.srcaddr = p.srcaddr AND r.dstaddr = p.dstaddr AND r.dstport = p.dstport AND r.protocol = p.protocol
),
scored AS (
  SELECT subscores.*, round((0.25 * ts_score + 0.25 * ds_score + 0.25 * hist_score + 0.25 * dur_score) * 1000) / 1000 AS score
  FROM subscores
)
SELECT
  first_time AS event_time,
  srcaddr AS actor,
  srcaddr AS source_ip,
  'ACCEPT' AS action,
  dstaddr || ':' || CAST(dstport AS varchar) || CASE protocol WHEN 6 THEN '/tcp' WHEN 17 THEN '/udp' WHEN 1 THEN '/icmp' ELSE '/' || CAST(protocol AS varchar) END AS target,
  'beacon score ' || CAST(CAST(score AS decimal(6, 3)) AS varchar)
    || CASE WHEN score >= 1 THEN ' (RITA high)' WHEN score >= 0.9 THEN ' (RITA medium)' ELSE ' (RITA low)' END
    || ': ts ' || CAST(CAST(ts_score AS decimal(6, 3)) AS varchar) || ', ds ' || CAST(CAST(ds_score AS decimal(6, 3)) AS varchar)
    || ', hist ' || CAST(CAST(hist_score AS decimal(6, 3)) AS varchar) || ', dur ' || CAST(CAST(dur_score AS decimal(6, 3)) AS varchar)
    || '; ' || CAST(connections AS varchar) || ' connections, median interval ' || CAST(median_gap AS varchar) || ' s, median size '
    || CAST(median_bytes AS varchar) || ' bytes, ' || CAST(busy AS varchar) || ' of 24 bins busy, longest run ' || CAST(longest AS varchar)
    || '; ' || first_time || ' to ' || last_time AS detail,
  evidence_key,
  evidence_record,
  first_time,
  last_time,
  connections AS records
FROM scored
WHERE score >= {{min_score}}
ORDER BY event_time, actor, target
