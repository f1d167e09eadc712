// had-hls counting top-N (RTL twin of golden.topn_select and templates/hls/nnet_topn_select.h).
//
// Rule (everywhere in had-hls): keep the n = min(N, valid keys) keys of a row with the smallest score (Hamming
// distance in [0, D]); ties go to the lower key index; padded keys are never kept.
//
// Counting instead of sorting, in two passes over a row streamed as G = ceil(L/P) beats of P scores:
//   pass 1 (topn_hist)  hist[t] = #valid keys with score t < D, one histogram per lane in LUTRAM (one
//                       read-modify-write per lane and cycle; two banks, so the next row is counted while this one
//                       is scanned; bin D is never stored: it holds whatever the other bins leave); then a
//                       sequential scan of S bins per cycle (NW = ceil(D/S) cycles):
//                       T = first t with cum(t) >= n (D when none), take = n - cum(T-1), hmin = first t with
//                       hist[t] != 0 (D when none); the scan clears the bins it reads.
//   pass 2 (topn_keep)  over the row's stored scores, in key order: at = valid & score == T;
//                       kept = valid & (score < T | (at & #(at keys before it in the row) < take)).
// Counts saturate at the keys a row keeps (a bin holding >= n keys ends the scan there), so a lane counter has
// $clog2(min(G, n) + 1) bits. State: 2 P D small counters (LUTRAM) and the scores of about one row (block RAM):
// no comparator network, no sorted buffer.
//
// Modules: topn_hist (pass 1), topn_keep (pass 2, one beat), topn_stream (the standalone unit: pass 1 + a score
// FIFO + pass 2 + a FIFO of beats with kept keys + an emitter of one key per cycle). The HAD core
// (had_attention_core.v) uses topn_hist and topn_keep with its own score buffer and compaction (topn_compact).
`default_nettype none

// ------------------------------------------------------------------------------------------------ pass 1
// Beats (qualified by ce): beat_valid, beat_bank = the row's bank (rows alternate banks 0, 1), beat_last on the
// row's last beat. A bank may take the first beat of a new row when bank_busy is low. The scan of a row starts the
// cycle after its last beat (HOLD = 0: or right after the previous scan; HOLD = 1: once the previous results are
// taken) and takes NW = ceil(D/S) cycles; the bank is free again after its last scan cycle, and res_valid rises
// PIPE + 2 cycles after it. rst starts an NW-cycle clearing sweep (clearing = 1) during which no beat may arrive.
module topn_hist #(
    parameter P      = 1,     // lanes (scores per beat)
    parameter D      = 64,    // scores are in [0, D]
    parameter G      = 512,   // beats per row
    parameter NK     = 64,    // keys kept per row at most: min(N, L)
    parameter HW     = 7,     // score bits: $clog2(D + 1)
    parameter KW     = 7,     // bits of a count up to NK: $clog2(NK + 1)
    parameter S      = 1,     // bins scanned per cycle (a power of two)
    parameter PIPE   = 1,     // 1: a register between the lanes' words and their per-bin sum (for P > 1)
    parameter HOLD   = 0,     // 0: res_valid is a one-cycle pulse and scans run back to back (the consumer copies
                              //    the results at once); 1: res_* hold until res_ack, and a scan starts only
                              //    when the previous results have been taken
    parameter MASKED = 0      // 1: lanes may be invalid (padding): n = min(NK, valid keys of the row)
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            ce,
    input  wire            beat_valid,
    input  wire            beat_bank,
    input  wire            beat_last,
    input  wire [P*HW-1:0] beat_h,
    input  wire [P-1:0]    beat_lv,      // lane valid (a key, not padded)
    output wire [1:0]      bank_busy,    // bank holds a row not yet scanned
    output wire            clearing,
    output reg             res_valid,
    input  wire            res_ack,
    output reg             res_bank,
    output reg  [HW-1:0]   res_t,        // threshold T
    output reg  [KW-1:0]   res_take,     // keys with score T to keep (the first ones in key order)
    output reg  [HW-1:0]   res_hmin,     // smallest score of a valid key (D when none)
    output wire [KW-1:0]   res_n         // keys kept: min(NK, valid keys)
);
    localparam NW  = (D + S - 1) / S;                  // scan words (bins 0 .. D-1)
    localparam SB  = $clog2(S);
    localparam AW  = (NW > 1) ? $clog2(NW) : 1;
    localparam CAP = (G < NK) ? G : NK;                // a lane's count of one bin, saturated
    localparam LCW = $clog2(CAP + 1);
    localparam LMX = (1 << LCW) - 1;
    localparam WW  = S * LCW;
    localparam PW  = LCW + $clog2(P + 1);              // a bin's sum over the lanes

    // ---------------------------------------------------------------- bank and scan state
    reg [1:0] pend;                  // bank b holds a row whose scan has not finished
    reg sc_run, sc_bank, sc_next, clr;   // scanning bank sc_bank; the next row to scan is in bank sc_next
    reg [AW-1:0] sc_k;
    wire sc_last = (sc_k == NW - 1);
    assign bank_busy = pend;
    assign clearing = clr;
    reg wv, bv;                          // scan words / bin sums in the pipeline
    wire ready_row = pend[sc_next] || (beat_valid && beat_last && beat_bank == sc_next);
    wire free = HOLD ? (!sc_run && !wv && !bv && (!res_valid || res_ack)) : (!sc_run || sc_last);
    wire start = ce && !clr && free && ready_row;

    // ---------------------------------------------------------------- per-lane histogram memories (LUTRAM)
    wire [P*WW-1:0] sw0, sw1;          // the word at sc_k of every lane, per bank
    genvar b, p, f;
    generate
        for (b = 0; b < 2; b = b + 1) begin : bank
            for (p = 0; p < P; p = p + 1) begin : lane
                reg [WW-1:0] mem [0:NW-1];
                wire ing = beat_valid && (beat_bank == b);
                wire [HW-1:0] h = beat_h[p*HW +: HW];
                wire [AW-1:0] a = ing ? h[HW-1:SB] : sc_k;
                wire [WW-1:0] rd = mem[a];
                wire [WW-1:0] inc;
                for (f = 0; f < S; f = f + 1) begin : fld
                    wire [LCW-1:0] c = rd[f*LCW +: LCW];
                    assign inc[f*LCW +: LCW] = ((h & (S - 1)) == f && c != LMX) ? c + 1'b1 : c;
                end
                integer i;
                initial for (i = 0; i < NW; i = i + 1) mem[i] = {WW{1'b0}};
                always @(posedge clk) begin
                    if (clr) mem[sc_k] <= {WW{1'b0}};
                    else if (ce && ing && beat_lv[p] && h < D) mem[a] <= inc;
                    else if (ce && sc_run && sc_bank == b) mem[a] <= {WW{1'b0}};
                end
                if (b == 0) begin : r0
                    assign sw0[p*WW +: WW] = rd;
                end else begin : r1
                    assign sw1[p*WW +: WW] = rd;
                end
            end
        end
    endgenerate

    // ---------------------------------------------------------------- valid keys per bank (MASKED)
    reg [KW-1:0] nv [0:1];
    reg [1:0] nv_open;               // bank b is counting a row
    integer vq;
    reg [PW-1:0] nv_add;
    reg [PW+KW-1:0] nv_sum;
    always @* begin
        nv_add = {PW{1'b0}};
        for (vq = 0; vq < P; vq = vq + 1) nv_add = nv_add + beat_lv[vq];
        nv_sum = (nv_open[beat_bank] ? nv[beat_bank] : {KW{1'b0}}) + nv_add;
    end
    always @(posedge clk) begin
        if (rst) nv_open <= 2'b00;
        else if (MASKED && ce && beat_valid) begin
            nv[beat_bank] <= (nv_sum > NK) ? NK : nv_sum[KW-1:0];
            nv_open[beat_bank] <= !beat_last;
        end
    end

    // ---------------------------------------------------------------- scan pipeline
    // SC0: read word sc_k of every lane of the bank (and clear it); [PIPE: register the words]; SC1: per-bin sum
    // over the lanes (saturated at NK) registered; SC2: running count, threshold, take, hmin.
    reg [P*WW-1:0] w_r;
    reg wfirst, wlast, wbank;
    reg [AW-1:0] wk;
    reg [KW-1:0] wn;
    reg [KW-1:0] n_scan;             // n of the row being scanned (MASKED)
    wire [KW-1:0] nk_c = NK;
    // n of the row about to be scanned (its last beat may be arriving in this very cycle)
    wire [KW-1:0] nv_now = (beat_valid && beat_bank == sc_next) ? ((nv_sum > NK) ? nk_c : nv_sum[KW-1:0])
                                                                 : nv[sc_next];
    wire [KW-1:0] n_start = MASKED ? nv_now : nk_c;

    reg [S*KW-1:0] bin_sum;
    integer q, s;
    reg [PW-1:0] acc;
    always @* begin
        for (s = 0; s < S; s = s + 1) begin
            acc = {PW{1'b0}};
            for (q = 0; q < P; q = q + 1) acc = acc + w_r[q*WW + s*LCW +: LCW];
            bin_sum[s*KW +: KW] = (acc > NK) ? nk_c : acc[KW-1:0];
        end
    end
    reg bfirst, blast, bbank;
    reg [AW-1:0] bk;
    reg [KW-1:0] bn;
    reg [S*KW-1:0] b_bins;
    generate
        if (PIPE) begin : sum_reg
            always @(posedge clk) begin
                if (rst) bv <= 1'b0;
                else if (ce) begin
                    bv <= wv; bfirst <= wfirst; blast <= wlast; bbank <= wbank; bk <= wk; bn <= wn;
                    b_bins <= bin_sum;
                end
            end
        end else begin : sum_comb
            always @* begin
                bv = wv; bfirst = wfirst; blast = wlast; bbank = wbank; bk = wk; bn = wn; b_bins = bin_sum;
            end
        end
    endgenerate

    // SC2: the S bins of word bk after the running count c (KW+1 bits: c < n until T is found). res_t, res_take
    // and res_hmin are the scan's working registers: final after the last word (the consumer has taken the
    // previous row's results by then: at the res_valid pulse, or by res_ack before this scan could start).
    reg [KW-1:0] cum;
    reg found, seen;
    reg [KW:0] c, cb;
    reg [KW-1:0] take_n;
    reg found_n, seen_n;
    reg [HW-1:0] t_n, hmin_n;
    reg [HW+AW:0] t_idx;
    reg [KW-1:0] bin;
    always @* begin
        c = bfirst ? {(KW+1){1'b0}} : {1'b0, cum};
        found_n = bfirst ? 1'b0 : found;
        seen_n = bfirst ? 1'b0 : seen;
        t_n = res_t;
        take_n = res_take;
        hmin_n = res_hmin;
        for (s = 0; s < S; s = s + 1) begin
            bin = b_bins[s*KW +: KW];
            t_idx = bk * S + s;
            cb = c + bin;
            if (t_idx < D && !found_n && cb >= {1'b0, bn}) begin
                t_n = t_idx[HW-1:0];
                take_n = bn - c[KW-1:0];
                found_n = 1'b1;
            end
            if (t_idx < D && !seen_n && bin != 0) begin
                hmin_n = t_idx[HW-1:0];
                seen_n = 1'b1;
            end
            if (!found_n) c = cb;
        end
        if (blast && !found_n) begin   // every valid key left is at distance D
            t_n = D;
            take_n = bn - c[KW-1:0];
        end
        if (blast && !seen_n) hmin_n = D;
    end
    reg [KW-1:0] n_r;
    assign res_n = MASKED ? n_r : nk_c;

    always @(posedge clk) begin
        if (rst) begin
            pend <= 2'b00; sc_run <= 1'b0; sc_bank <= 1'b0; sc_next <= 1'b0; sc_k <= 0; clr <= 1'b1;
            wv <= 1'b0; res_valid <= 1'b0;
        end else if (clr) begin
            sc_k <= sc_last ? {AW{1'b0}} : sc_k + 1'b1;
            if (sc_last) clr <= 1'b0;
        end else begin
            if (res_ack || !HOLD) res_valid <= 1'b0;
            if (ce) begin
                if (beat_valid && beat_last) pend[beat_bank] <= 1'b1;
                if (sc_run && sc_last) pend[sc_bank] <= 1'b0;
                if (start) begin
                    sc_run <= 1'b1;
                    sc_k <= 0;
                    sc_bank <= sc_next;
                    sc_next <= !sc_next;
                    n_scan <= n_start;
                end else if (sc_run) begin
                    sc_k <= sc_k + 1'b1;
                    if (sc_last) sc_run <= 1'b0;
                end
                // SC0 -> words
                wv <= sc_run; wfirst <= sc_run && sc_k == 0; wlast <= sc_run && sc_last; wbank <= sc_bank;
                wk <= sc_k; wn <= n_scan;
                w_r <= sc_bank ? sw1 : sw0;
                // SC2
                if (bv) begin
                    cum <= c[KW-1:0]; found <= found_n; seen <= seen_n;
                    res_t <= t_n; res_take <= take_n; res_hmin <= hmin_n;
                end
                if (bv && blast) begin
                    res_valid <= 1'b1;
                    res_bank <= bbank;
                    n_r <= bn;
                end
            end
        end
    end
endmodule

// ------------------------------------------------------------------------------------------------ pass 2
// One beat of P lanes in key order: kept[p] = lv & (h < T | (h == T & #(lanes q < p with h == T) < rem)),
// rem = keys with score T still to keep in this row (take at the row's first beat); rem_next for the next beat.
module topn_keep #(
    parameter P  = 1,
    parameter HW = 7,
    parameter KW = 7
) (
    input  wire [P-1:0]    lv,
    input  wire [P*HW-1:0] h,
    input  wire [HW-1:0]   t,
    input  wire [KW-1:0]   rem,
    output reg  [P-1:0]    kept,
    output reg  [KW-1:0]   rem_next
);
    integer p;
    reg [KW-1:0] r;
    reg at;
    always @* begin
        r = rem;
        for (p = 0; p < P; p = p + 1) begin
            at = lv[p] && (h[p*HW +: HW] == t);
            kept[p] = lv[p] && ((h[p*HW +: HW] < t) || (at && r != 0));
            if (at && r != 0) r = r - 1'b1;
        end
        rem_next = r;
    end
endmodule

// ------------------------------------------------------------------------------------------------ standalone unit
// topn_stream: one row = L scores streamed once as G = ceil(L/P) beats (lane p of beat g = key g P + p; lanes past
// L in the last beat are ignored). It emits exactly n = min(N, valid keys) keys of each row, one per cycle
// (out_valid with out_idx, out_h), in key order within the row, then raises out_done for one cycle: the cycle after
// the row's last kept key, with out_valid low in that cycle. It takes the next row while it emits this one: rows
// run back to back at one row per max(G, n + 1) cycles in steady state (plus a few cycles when G is so small that
// the scan's ceil(D/S) + 3 cycles exceed it). in_ready is low only while the unit's buffers are full, and for the ceil(D/S)
// cycles of clearing after rst.
// MASKED = 1 adds in_pad (a padding bit per lane: never kept; a row with nothing to keep emits only out_done).
module topn_stream #(
    parameter P = 1,
    parameter L = 512,
    parameter D = 64,
    parameter N = 64,
    parameter MASKED = 0,
    parameter SCAN = 0,        // bins scanned per cycle; 0 = the smallest power of two with ceil(D/SCAN) + 3 <= G
    parameter KD = 32          // kept-beat FIFO depth (32: one LUTRAM primitive deep)
) (
    input  wire            clk,
    input  wire            rst,        // synchronous, active high
    input  wire            in_valid,
    output wire            in_ready,
    input  wire [P*HW-1:0] in_h,
    input  wire [P-1:0]    in_pad,     // MASKED only
    output reg             out_valid,
    output reg  [IW-1:0]   out_idx,
    output reg  [HW-1:0]   out_h,
    output reg             out_done
);
    localparam HW  = $clog2(D + 1);
    localparam IW  = (L > 1) ? $clog2(L) : 1;
    localparam G   = (L + P - 1) / P;
    localparam NK  = (N < L) ? N : L;
    localparam KW  = $clog2(NK + 1);
    localparam PIPE = (P > 1) ? 1 : 0;
    localparam S   = (SCAN > 0) ? SCAN : scan_bins(D, G, PIPE);
    localparam NW  = (D + S - 1) / S;
    localparam LASTW = L - (G - 1) * P;        // lanes holding a key in the last beat
    localparam GB  = (G > 1) ? $clog2(G) : 1;
    localparam ED  = P * HW;                   // the scores of a beat
    localparam SW  = ED + (MASKED ? P : 0);    // a score-FIFO word {pad, scores}
    localparam SAB = $clog2(G + NW + 8);       // score FIFO: a row, the scan, the pass-2 pipeline
    localparam SD  = 1 << SAB;
    localparam KAB = $clog2(KD);
    localparam KEW = 1 + P + GB + ED;          // kept-beat FIFO word {row end, kept lanes, beat, scores}

    function integer scan_bins;
        input integer d, g, pipe;
        integer s;
        begin
            s = 1;
            while ((d + s - 1) / s + 2 + pipe > g && s < d) s = s * 2;
            scan_bins = s;
        end
    endfunction

    // ---------------------------------------------------------------- input: pass 1 and the score FIFO
    reg in_bank;                     // bank (= row parity) of the row being received
    reg [GB-1:0] in_g;               // its next beat
    wire [1:0] bank_busy;
    wire clearing;
    reg [SAB:0] s_wr, s_rd;          // score FIFO pointers (one wrap bit)
    wire s_full = (s_wr[SAB] != s_rd[SAB]) && (s_wr[SAB-1:0] == s_rd[SAB-1:0]);
    assign in_ready = !rst && !clearing && !s_full && !(in_g == 0 && bank_busy[in_bank]);
    wire take_in = in_valid && in_ready;
    wire in_last = (in_g == G - 1);
    wire [P-1:0] in_pad_m = MASKED ? in_pad : {P{1'b0}};
    wire [P-1:0] in_lv;
    genvar lg;
    generate
        for (lg = 0; lg < P; lg = lg + 1) begin : in_lane
            assign in_lv[lg] = !in_pad_m[lg] && !(in_last && lg >= LASTW);
        end
    endgenerate

    wire r_valid, r_bank;
    wire [HW-1:0] r_t, r_hmin;
    wire [KW-1:0] r_take, r_n;
    reg r_ack;
    topn_hist #(.P(P), .D(D), .G(G), .NK(NK), .HW(HW), .KW(KW), .S(S), .PIPE(PIPE), .HOLD(1), .MASKED(MASKED)) hist (
        .clk(clk), .rst(rst), .ce(1'b1), .beat_valid(take_in), .beat_bank(in_bank), .beat_last(in_last),
        .beat_h(in_h), .beat_lv(in_lv), .bank_busy(bank_busy), .clearing(clearing), .res_valid(r_valid),
        .res_ack(r_ack), .res_bank(r_bank), .res_t(r_t), .res_take(r_take), .res_hmin(r_hmin), .res_n(r_n));

    reg [SW-1:0] smem [0:SD-1];
    wire [SW-1:0] s_din;
    generate
        if (MASKED) begin : s_pad
            assign s_din = {in_pad_m, in_h};
        end else begin : s_nopad
            assign s_din = in_h;
        end
    endgenerate
    always @(posedge clk) if (take_in) smem[s_wr[SAB-1:0]] <= s_din;

    // ---------------------------------------------------------------- pass 2: K0 read, K1 keep, K2 push
    reg [GB-1:0] k_g;                // beat pass 2 reads next
    reg [HW-1:0] row_t;              // threshold and take of the row pass 2 is in (taken at its first beat)
    reg [KW-1:0] row_take;
    reg [KAB:0] kf_wr, kf_rd;        // kept-beat FIFO pointers (one wrap bit)
    wire [KAB:0] kf_used = kf_wr - kf_rd;
    wire k_first = (k_g == 0);
    wire k_go = (!k_first || r_valid) && (s_wr != s_rd) && kf_used <= KD - 3;
    always @* r_ack = k_go && k_first;

    reg k1_v, k1_first, k1_last;
    reg [GB-1:0] k1_g;
    reg [KW-1:0] k1_n_r, k2_n_r;     // n along the pipeline (MASKED; else the constant NK)
    reg [SW-1:0] k1_d;
    always @(posedge clk) if (k_go) k1_d <= smem[s_rd[SAB-1:0]];
    wire [P-1:0] k1_pad;
    wire [P-1:0] k1_lv;
    generate
        if (MASKED) begin : k1_padded
            assign k1_pad = k1_d[SW-1 -: P];
        end else begin : k1_unpadded
            assign k1_pad = {P{1'b0}};
        end
        for (lg = 0; lg < P; lg = lg + 1) begin : k1_lane
            assign k1_lv[lg] = !k1_pad[lg] && !(k1_last && lg >= LASTW);
        end
    endgenerate
    reg [KW-1:0] k_rem;              // keys at T still to keep in this row
    wire [P-1:0] k1_kept;
    wire [KW-1:0] k1_rem_next;
    topn_keep #(.P(P), .HW(HW), .KW(KW)) keep (
        .lv(k1_lv), .h(k1_d[ED-1:0]), .t(row_t), .rem(k1_first ? row_take : k_rem), .kept(k1_kept),
        .rem_next(k1_rem_next));

    reg k2_v, k2_first, k2_last;
    reg [GB-1:0] k2_g;
    reg [P-1:0] k2_kept;
    reg [ED-1:0] k2_h;
    reg [KW-1:0] k_left;             // kept keys of this row not yet pushed
    wire [KW-1:0] nk_c = NK;
    wire [KW-1:0] k2_n = MASKED ? k2_n_r : nk_c;
    integer kq;
    reg [KW-1:0] k2_cnt;
    always @* begin
        k2_cnt = {KW{1'b0}};
        for (kq = 0; kq < P; kq = kq + 1) k2_cnt = k2_cnt + k2_kept[kq];
    end
    wire [KW-1:0] k2_left = k2_first ? k2_n : k_left;
    // the entry of this beat ends the row: it holds the row's last kept key, or the row keeps nothing
    wire k2_end = (k2_left != 0 && k2_left == k2_cnt) || (k2_last && k2_n == 0);
    wire k2_push = k2_v && (k2_kept != 0 || (k2_last && k2_n == 0));

    // ---------------------------------------------------------------- kept-beat FIFO (LUTRAM, first word falls through)
    reg [KEW-1:0] kmem [0:KD-1];
    always @(posedge clk) if (k2_push) kmem[kf_wr[KAB-1:0]] <= {k2_end, k2_kept, k2_g, k2_h};
    wire [KEW-1:0] head = kmem[kf_rd[KAB-1:0]];
    wire hd_end = head[KEW-1];
    wire [P-1:0] hd_mask = head[KEW-2 -: P];
    wire [GB-1:0] hd_g = head[ED +: GB];
    wire [ED-1:0] hd_h = head[ED-1:0];
    wire kf_any = kf_wr != kf_rd;

    // ---------------------------------------------------------------- emitter: one key per cycle
    reg done_pend;                   // the row's last key left: out_done next, no key
    reg [P-1:0] used;                // lanes of the head already emitted
    wire [P-1:0] em = hd_mask & ~used;
    wire [P-1:0] low = em & (~em + 1'b1);                  // lowest pending lane (one-hot)
    wire lastbit = (em & ~low) == 0;
    wire emit = kf_any && !done_pend && em != 0;
    wire done_only = kf_any && !done_pend && hd_mask == 0;  // a row with nothing to keep
    wire pop = (emit && lastbit) || done_only;
    integer ep;
    reg [IW-1:0] e_lane;
    reg [HW-1:0] e_h;
    always @* begin
        e_lane = {IW{1'b0}};
        e_h = hd_h[HW-1:0];
        for (ep = 0; ep < P; ep = ep + 1)
            if (low[ep]) begin
                e_lane = ep;
                e_h = hd_h[ep*HW +: HW];
            end
    end
    wire [IW+GB:0] e_idx = hd_g * P + e_lane;

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        if (rst) begin
            in_bank <= 1'b0; in_g <= 0; s_wr <= 0; s_rd <= 0;
            k_g <= 0; k1_v <= 1'b0; k2_v <= 1'b0; kf_wr <= 0; kf_rd <= 0;
            done_pend <= 1'b0; used <= {P{1'b0}}; out_valid <= 1'b0; out_done <= 1'b0;
        end else begin
            // input
            if (take_in) begin
                s_wr <= s_wr + 1'b1;
                if (in_last) begin
                    in_g <= 0;
                    in_bank <= !in_bank;
                end else begin
                    in_g <= in_g + 1'b1;
                end
            end
            // K0
            if (k_go) begin
                s_rd <= s_rd + 1'b1;
                if (k_first) begin
                    row_t <= r_t;
                    row_take <= r_take;
                end
                k_g <= (k_g == G - 1) ? {GB{1'b0}} : k_g + 1'b1;
            end
            k1_v <= k_go; k1_first <= k_first; k1_last <= (k_g == G - 1); k1_g <= k_g;
            if (k_go && k_first) k1_n_r <= r_n;
            // K1
            if (k1_v) k_rem <= k1_rem_next;
            k2_v <= k1_v; k2_first <= k1_first; k2_last <= k1_last; k2_g <= k1_g; k2_n_r <= k1_n_r;
            k2_kept <= k1_kept; k2_h <= k1_d[ED-1:0];
            // K2
            if (k2_v) k_left <= k2_left - k2_cnt;
            if (k2_push) kf_wr <= kf_wr + 1'b1;
            // emitter
            out_valid <= emit;
            out_done <= done_pend || done_only;
            if (emit) begin
                out_idx <= e_idx[IW-1:0];
                out_h <= e_h;
            end
            done_pend <= emit && lastbit && hd_end;
            if (pop) begin
                kf_rd <= kf_rd + 1'b1;
                used <= {P{1'b0}};
            end else if (emit) begin
                used <= used | low;
            end
        end
    end
endmodule
`default_nettype wire
