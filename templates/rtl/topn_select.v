// had-hls RTL twin of templates/hls/nnet_topn_select.h (topn_select_row) and golden.topn_select.
// Counting top-N of one query row, no sorting, split into the three pieces a P-lane stream needs:
//   topn_hist_update : pass 1, per cycle: hist[t] += #(valid lanes with ham == t), n_valid += #valid lanes
//   topn_threshold   : n = min(N, n_valid); T = first t with cumsum(hist)[t] >= n; take = n - cumsum[T-1];
//                      hmin = first t with hist[t] != 0 (= smallest kept distance when n >= 1)
//   topn_keep        : pass 2, per cycle, lanes in key order: at = valid & ham == T;
//                      kept = valid & (ham < T | (at & seen_before_lane < take)); seen += #at
// This is exactly the had-hls tie rule: smallest distance first, then lower key index. n = 0 keeps nothing.
`default_nettype none
module topn_hist_update #(
    parameter D  = 8,
    parameter P  = 4,
    parameter HB = 4,
    parameter CB = 4    // count bits: bits_for_unsigned(L)
) (
    input  wire                first,        // 1: start a new row (histogram from zero)
    input  wire [(D+1)*CB-1:0] hist_in,
    input  wire [CB-1:0]       nvalid_in,
    input  wire [P-1:0]        lane_valid,
    input  wire [P*HB-1:0]     ham,
    output reg  [(D+1)*CB-1:0] hist_out,
    output reg  [CB-1:0]       nvalid_out
);
    integer t, p;
    reg [CB-1:0] cnt;
    always @* begin
        for (t = 0; t <= D; t = t + 1) begin
            cnt = first ? {CB{1'b0}} : hist_in[t*CB +: CB];
            for (p = 0; p < P; p = p + 1)
                if (lane_valid[p] && ham[p*HB +: HB] == t) cnt = cnt + 1'b1;
            hist_out[t*CB +: CB] = cnt;
        end
        nvalid_out = first ? {CB{1'b0}} : nvalid_in;
        for (p = 0; p < P; p = p + 1) nvalid_out = nvalid_out + {{(CB-1){1'b0}}, lane_valid[p]};
    end
endmodule

module topn_threshold #(
    parameter D  = 8,
    parameter HB = 4,
    parameter CB = 4,
    parameter N  = 4    // top_n
) (
    input  wire [(D+1)*CB-1:0] hist,
    input  wire [CB-1:0]       nvalid,
    output reg  [HB-1:0]       thresh,
    output reg  [CB-1:0]       take,
    output reg  [HB-1:0]       hmin
);
    integer t;
    reg [CB:0] cum, below, nrow, h;
    reg found, seen_any;
    always @* begin
        nrow = (nvalid < N) ? {1'b0, nvalid} : N;
        cum = 0; below = 0; found = 1'b0; seen_any = 1'b0;
        thresh = {HB{1'b0}}; hmin = {HB{1'b0}};
        for (t = 0; t <= D; t = t + 1) begin
            h = {1'b0, hist[t*CB +: CB]};
            if (!found && (cum + h >= nrow)) begin
                thresh = t;
                below = cum;
                found = 1'b1;
            end
            if (!seen_any && h != 0) begin
                hmin = t;
                seen_any = 1'b1;
            end
            cum = cum + h;
        end
        take = nrow - below;
    end
endmodule

module topn_keep #(
    parameter P  = 4,
    parameter HB = 4,
    parameter CB = 4
) (
    input  wire [P-1:0]    lane_valid,
    input  wire [P*HB-1:0] ham,
    input  wire [HB-1:0]   thresh,
    input  wire [CB-1:0]   take,
    input  wire [CB-1:0]   seen_in,    // keys with ham == thresh before this group (0 at a row's first group)
    output reg  [P-1:0]    kept,
    output reg  [CB-1:0]   seen_out
);
    integer p;
    reg at;
    reg [CB:0] seen;
    always @* begin
        seen = {1'b0, seen_in};
        for (p = 0; p < P; p = p + 1) begin
            at = lane_valid[p] && (ham[p*HB +: HB] == thresh);
            kept[p] = lane_valid[p] && ((ham[p*HB +: HB] < thresh) || (at && (seen < {1'b0, take})));
            if (at) seen = seen + 1'b1;
        end
        seen_out = seen[CB-1:0];
    end
endmodule
`default_nettype wire
