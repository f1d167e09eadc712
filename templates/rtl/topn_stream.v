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
// PIPE + (S > 1) + 2 cycles after it. rst starts an NW-cycle clearing sweep (clearing = 1) during which no beat may arrive.
module topn_hist #(
    parameter P      = 1,     // lanes (scores per beat)
    parameter D      = 64,    // scores are in [0, D]
    parameter G      = 512,   // beats per row
    parameter NK     = 64,    // keys kept per row at most: min(N, L)
    parameter HW     = 7,     // score bits: $clog2(D + 1)
    parameter KW     = 7,     // bits of a count up to NK: $clog2(NK + 1)
    parameter S      = 1,     // bins scanned per cycle (a power of two)
    parameter PIPE   = 1,     // registers in the per-bin lane sum: 0 (P = 1), 1 (P <= 4), 2 (P > 4)
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
    reg gv, xv;                          // lane-group sums / prefix sums in the pipeline (PIPE = 2 / S > 1)
    wire free = HOLD ? (!sc_run && !wv && !gv && !bv && !xv && (!res_valid || res_ack)) : (!sc_run || sc_last);
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
    // SC0: read word sc_k of every lane of the bank (and clear it), registered; SC1: per-bin sum over the lanes
    // (saturated at NK), with PIPE registers; SC2: threshold, take, hmin.
    reg [KW-1:0] n_scan;             // n of the row being scanned
    wire [KW-1:0] nk_c = NK;
    // n of the row about to be scanned (its last beat may be arriving in this very cycle)
    wire [KW-1:0] nv_now = (beat_valid && beat_bank == sc_next) ? ((nv_sum > NK) ? nk_c : nv_sum[KW-1:0])
                                                                 : nv[sc_next];
    wire [KW-1:0] n_start = MASKED ? nv_now : nk_c;

    reg [P*WW-1:0] w_r;
    reg wfirst, wlast, wbank;
    reg [AW-1:0] wk;
    reg [KW-1:0] wn;
    // SC1: per bin, the lanes' counts summed in groups of four (registered when PIPE = 2), then the groups
    // (saturated at NK); registered when PIPE >= 1
    localparam NG  = (P + 3) / 4;                   // lane groups
    localparam GW  = LCW + 3;                       // a group's sum (<= 4 lanes)
    integer q, s, g;
    reg [S*NG*GW-1:0] grp_n, grp_r, grp;
    reg [GW-1:0] gacc;
    always @* begin
        for (s = 0; s < S; s = s + 1)
            for (g = 0; g < NG; g = g + 1) begin
                gacc = {GW{1'b0}};
                for (q = 4 * g; q < 4 * g + 4 && q < P; q = q + 1) gacc = gacc + w_r[q*WW + s*LCW +: LCW];
                grp_n[(s*NG + g)*GW +: GW] = gacc;
            end
    end
    reg gfirst, glast, gbank;
    reg [AW-1:0] gk;
    reg [KW-1:0] gn;
    generate
        if (PIPE >= 2) begin : grp_reg
            always @(posedge clk) begin
                if (rst) gv <= 1'b0;
                else if (ce) begin
                    gv <= wv; gfirst <= wfirst; glast <= wlast; gbank <= wbank; gk <= wk; gn <= wn; grp_r <= grp_n;
                end
            end
            always @* grp = grp_r;
        end else begin : grp_comb
            always @* begin
                gv = wv; gfirst = wfirst; glast = wlast; gbank = wbank; gk = wk; gn = wn; grp = grp_n;
            end
        end
    endgenerate
    // bin_one[s] = bin s of the word (its lane groups summed, saturated at NK)
    reg [S*KW-1:0] bin_one;
    reg [PW-1:0] one;
    always @* begin
        for (s = 0; s < S; s = s + 1) begin
            one = {PW{1'b0}};
            for (g = 0; g < NG; g = g + 1) one = one + grp[(s*NG + g)*GW +: GW];
            bin_one[s*KW +: KW] = (one > NK) ? nk_c : one[KW-1:0];
        end
    end
    reg bfirst, blast, bbank;
    reg [AW-1:0] bk;
    reg [KW-1:0] bn;
    reg [S*KW-1:0] b_one;
    generate
        always @(posedge clk) begin       // SC0 -> SC1: the words (always registered: LUTRAM read + bank select)
            if (rst) begin
                wv <= 1'b0;
            end else if (ce) begin
                wv <= sc_run; wfirst <= sc_run && sc_k == 0; wlast <= sc_run && sc_last; wbank <= sc_bank;
                wk <= sc_k; wn <= n_scan; w_r <= sc_bank ? sw1 : sw0;
            end
        end
        if (PIPE >= 1) begin : sum_reg    // SC1 -> the bins, registered
            always @(posedge clk) begin
                if (rst) bv <= 1'b0;
                else if (ce) begin
                    bv <= gv; bfirst <= gfirst; blast <= glast; bbank <= gbank; bk <= gk; bn <= gn;
                    b_one <= bin_one;
                end
            end
        end else begin : sum_comb
            always @* begin
                bv = gv; bfirst = gfirst; blast = glast; bbank = gbank; bk = gk; bn = gn; b_one = bin_one;
            end
        end
    endgenerate
    // b_bins[s] = the word's bins 0 .. s summed (a prefix, saturated at NK), registered when S > 1, so SC2
    // compares all S at once
    reg [S*KW-1:0] pre_n, b_bins;
    reg [KW:0] pacc;
    always @* begin
        pacc = {(KW+1){1'b0}};
        for (s = 0; s < S; s = s + 1) begin
            pacc = pacc + b_one[s*KW +: KW];
            if (pacc > NK) pacc = NK;
            pre_n[s*KW +: KW] = pacc[KW-1:0];
        end
    end
    reg xfirst, xlast, xbank;
    reg [AW-1:0] xk;
    reg [KW-1:0] xn;
    generate
        if (S > 1) begin : pre_reg
            always @(posedge clk) begin
                if (rst) xv <= 1'b0;
                else if (ce) begin
                    xv <= bv; xfirst <= bfirst; xlast <= blast; xbank <= bbank; xk <= bk; xn <= bn;
                    b_bins <= pre_n;
                end
            end
        end else begin : pre_comb
            always @* begin
                xv = bv; xfirst = bfirst; xlast = blast; xbank = bbank; xk = bk; xn = bn; b_bins = pre_n;
            end
        end
    endgenerate

    // SC2: the word's prefix sums against need = n - (keys in the bins before the word): T is the first bin s with
    // prefix(s) >= need, and then take = need - prefix(s - 1). res_t, res_take and res_hmin are the scan's working
    // registers, final after the last word (the consumer has taken the previous row's results by then: at the
    // res_valid pulse, or by res_ack before this scan could start). Bins past D - 1 in the last word are empty.
    reg [KW-1:0] need;
    reg found, seen;
    reg [KW-1:0] nd, take_n, pre, pre0;
    reg found_n, seen_n, hit;
    reg [HW-1:0] t_n, hmin_n;
    reg [HW+AW:0] t_idx;
    always @* begin
        nd = xfirst ? xn : need;
        found_n = xfirst ? 1'b0 : found;
        seen_n = xfirst ? 1'b0 : seen;
        t_n = res_t;
        take_n = res_take;
        hmin_n = res_hmin;
        hit = 1'b0;
        pre0 = {KW{1'b0}};              // prefix of the bins before bin s
        for (s = 0; s < S; s = s + 1) begin
            pre = b_bins[s*KW +: KW];
            t_idx = xk * S + s;
            if (!found_n && !hit && pre >= nd) begin
                t_n = t_idx[HW-1:0];
                take_n = nd - pre0;
                hit = 1'b1;
            end
            if (!seen_n && pre != 0 && pre0 == 0) begin
                hmin_n = t_idx[HW-1:0];
                seen_n = 1'b1;
            end
            pre0 = pre;
        end
        if (!found_n && !hit) nd = nd - pre0;   // prefix of the whole word (< need)
        found_n = found_n || hit;
        if (xlast && !found_n) begin   // the keys still needed are all at distance D
            t_n = D;
            take_n = nd;
        end
        if (xlast && !seen_n) hmin_n = D;
    end
    reg [KW-1:0] n_r;
    assign res_n = MASKED ? n_r : nk_c;

    always @(posedge clk) begin
        if (rst) begin
            pend <= 2'b00; sc_run <= 1'b0; sc_bank <= 1'b0; sc_next <= 1'b0; sc_k <= 0; clr <= 1'b1;
            res_valid <= 1'b0;
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
                // SC2
                if (xv) begin
                    need <= nd; found <= found_n; seen <= seen_n;
                    res_t <= t_n; res_take <= take_n; res_hmin <= hmin_n;
                end
                if (xv && xlast) begin
                    res_valid <= 1'b1;
                    res_bank <= xbank;
                    n_r <= xn;
                end
            end
        end
    end
endmodule

// ------------------------------------------------------------------------------------------------ pass 2
// One beat of P lanes per cycle, rows in key order; T and take are sampled with a row's first beat (in_first):
//   at[p] = lv & h == T,  below[p] = lv & h < T,  ahead[p] = #(at lanes q < p),  total = #at
//   rem = take at the row's first beat, else what the previous beat left;  rem <- rem - min(total, rem)
//   kept[p] = below[p] | (at[p] & ahead[p] < rem)
// This is exactly the had-hls tie rule (the first `take` keys with score T in key order). STAGES = 2 registers the
// compares and prefix counts before the rem step (P > 1), STAGES = 3 the compares alone first (P > 4); kept_v /
// kept follow the beat by STAGES cycles.
module topn_keep #(
    parameter P      = 1,
    parameter HW     = 7,
    parameter KW     = 7,
    parameter STAGES = 2      // 1, 2 or 3
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            en,
    input  wire            in_v,
    input  wire            in_first,
    input  wire [P-1:0]    lv,
    input  wire [P*HW-1:0] h,
    input  wire [HW-1:0]   in_t,
    input  wire [KW-1:0]   in_take,
    output reg             kept_v,
    output reg  [P-1:0]    kept
);
    localparam PB = $clog2(P + 1);
    localparam TW = (P > 1) ? P - 1 : 1;    // thermometer of a count of the lanes before p: bit k = count > k
    integer p, q, k;
    reg [HW-1:0] t_row;
    wire [HW-1:0] t = in_first ? in_t : t_row;
    reg [P-1:0] at_n, below_n;
    always @* begin
        for (p = 0; p < P; p = p + 1) begin
            at_n[p] = lv[p] && (h[p*HW +: HW] == t);
            below_n[p] = lv[p] && (h[p*HW +: HW] < t);
        end
    end
    // stage A (STAGES = 3): the compares, registered
    reg a_v, a_first;
    reg [P-1:0] a_at, a_below;
    reg [KW-1:0] a_take;
    // prefix counts as thermometer codes (AND/OR only, no adder chains): th[p][k] = #(at lanes q < p) > k
    reg [P*TW-1:0] ahead_n;
    reg [TW:0] th;
    reg [PB-1:0] total_n;
    always @* begin
        th = {(TW+1){1'b0}};
        for (p = 0; p < P; p = p + 1) begin
            ahead_n[p*TW +: TW] = th[TW-1:0];
            for (k = TW; k >= 1; k = k - 1) th[k] = th[k] | (a_at[p] & th[k-1]);
            th[0] = th[0] | a_at[p];
        end
        total_n = {PB{1'b0}};               // #at lanes, from the thermometer
        for (k = 0; k <= TW; k = k + 1) if (th[k]) total_n = k + 1;
    end
    // stage B (STAGES >= 2): compares and prefix counts, registered; then the rem step: an at lane p is kept while
    // #(at lanes before it) < rem, i.e. rem > 0 and (rem > P - 1 or thermometer bit rem - 1 is clear)
    reg s_v, s_first;
    reg [P-1:0] at, below;
    reg [P*TW-1:0] ahead;
    reg [PB-1:0] total;
    reg [KW-1:0] take, rem;
    wire [KW-1:0] r = s_first ? take : rem;
    reg [P-1:0] kept_n;
    reg room;
    always @* begin
        for (p = 0; p < P; p = p + 1) begin
            room = (r > P - 1);
            for (k = 0; k < TW; k = k + 1) if (r == k + 1) room = !ahead[p*TW + k];
            if (P == 1) room = (r != 0);
            kept_n[p] = below[p] || (at[p] && room);
        end
    end
    generate
        if (STAGES == 3) begin : sa
            always @(posedge clk) begin
                if (rst) a_v <= 1'b0;
                else if (en) begin
                    a_v <= in_v;
                    if (in_v) begin
                        a_first <= in_first; a_at <= at_n; a_below <= below_n;
                        if (in_first) a_take <= in_take;
                    end
                end
            end
        end else begin : na
            always @* begin
                a_v = in_v; a_first = in_first; a_at = at_n; a_below = below_n; a_take = in_take;
            end
        end
        if (STAGES >= 2) begin : sb
            always @(posedge clk) begin
                if (rst) s_v <= 1'b0;
                else if (en) begin
                    s_v <= a_v;
                    if (a_v) begin
                        s_first <= a_first; at <= a_at; below <= a_below; ahead <= ahead_n; total <= total_n;
                        if (a_first) take <= a_take;
                    end
                end
            end
        end else begin : nb
            always @* begin
                s_v = a_v; s_first = a_first; at = a_at; below = a_below; ahead = ahead_n; total = total_n;
                take = a_take;
            end
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) begin
            kept_v <= 1'b0;
        end else if (en) begin
            if (in_v && in_first) t_row <= in_t;
            kept_v <= s_v;
            if (s_v) begin
                kept <= kept_n;
                rem <= ({{KW{1'b0}}, total} >= {{PB{1'b0}}, r}) ? {KW{1'b0}} : r - total;
            end
        end
    end
endmodule

// ------------------------------------------------------------------------------------------------ compaction
// topn_compact: the kept lanes of each beat of a job go to consecutive positions 0, 1, ... of the job's N slots:
// position = row * P + bank, bank = position mod P, so the <= P keys of a beat land in P different banks and P
// single-port writes never collide. Slot entry {key index, ham - hmin}. Two register stages: C1 (lane positions from
// a prefix count of the kept lanes and the running position, registered), C2 (each bank picks its lane: the write
// signals wr_* drive the slot memories directly). done pulses (with count = the job's kept keys) in the cycle of
// the job's last writes; jobs alternate halves (in_bank = wr_bank).
module topn_compact #(
    parameter P   = 4,
    parameter HW  = 4,
    parameter KB  = 3,      // key index bits
    parameter XB  = 8,      // counter bits of the core (key, head)
    parameter KW  = 4,      // bits of a count up to min(N, L)
    parameter CRB = 1       // slot row bits: $clog2(ceil(min(N, L) / P)), at least 1
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              en,
    input  wire              in_v,
    input  wire              in_first,
    input  wire              in_last,
    input  wire              in_bank,
    input  wire [XB-1:0]     in_h,
    input  wire              in_lj,
    input  wire [P-1:0]      kept,
    input  wire [P*HW-1:0]   ham,
    input  wire [XB-1:0]     key,       // key index of lane 0
    input  wire [HW-1:0]     hmin,
    output reg  [P-1:0]      wr_en,
    output reg  [P*CRB-1:0]  wr_row,
    output reg  [P*(KB+HW)-1:0] wr_dat,
    output reg               wr_bank,
    output reg               done,
    output reg               done_bank,
    output reg  [XB-1:0]     done_h,
    output reg               done_lj,
    output reg  [KW-1:0]     count
);
    localparam PB  = $clog2(P + 1);
    localparam LB  = (P > 1) ? $clog2(P) : 1;
    localparam CEW = KB + HW;
    // C1: running position (row, bank) and count of the job
    reg [CRB-1:0] base_row;
    reg [LB-1:0] base_bnk;
    reg [KW-1:0] cnt;
    reg [P-1:0] l_en;
    reg [P*LB-1:0] l_bnk;
    reg [P*CRB-1:0] l_row;
    reg [P*CEW-1:0] l_dat;
    integer p, q;
    reg [PB-1:0] off, tot;
    reg [LB:0] pos;
    reg [CRB-1:0] r0;
    reg [LB-1:0] b0;
    reg [KW-1:0] c0;
    reg [XB-1:0] kk;
    reg [LB-1:0] nb;
    reg [CRB-1:0] nr;
    reg [P*LB-1:0] bnk_n;
    reg [P*CRB-1:0] row_n;
    reg [P*CEW-1:0] dat_n;
    always @* begin
        r0 = in_first ? {CRB{1'b0}} : base_row;
        b0 = in_first ? {LB{1'b0}} : base_bnk;
        c0 = in_first ? {KW{1'b0}} : cnt;
        for (p = 0; p < P; p = p + 1) begin
            off = {PB{1'b0}};
            for (q = 0; q < p; q = q + 1) off = off + kept[q];
            pos = b0 + off;
            bnk_n[p*LB +: LB] = (pos >= P) ? pos - P : pos;
            row_n[p*CRB +: CRB] = (pos >= P) ? r0 + 1'b1 : r0;
            kk = key + p;
            dat_n[p*CEW +: CEW] = {kk[KB-1:0], ham[p*HW +: HW] - hmin};
        end
        tot = {PB{1'b0}};
        for (q = 0; q < P; q = q + 1) tot = tot + kept[q];
        pos = b0 + tot;
        nb = (pos >= P) ? pos - P : pos;
        nr = (pos >= P) ? r0 + 1'b1 : r0;
    end
    reg l_v, l_last, l_bank, l_lj;
    reg [XB-1:0] l_h;
    always @(posedge clk) begin
        if (rst) begin
            l_v <= 1'b0;
        end else if (en) begin
            l_v <= in_v;
            if (in_v) begin
                base_row <= nr; base_bnk <= nb; cnt <= c0 + tot;
                l_en <= kept; l_bnk <= bnk_n; l_row <= row_n; l_dat <= dat_n;
                l_last <= in_last; l_bank <= in_bank; l_h <= in_h; l_lj <= in_lj;
            end
        end
    end
    // C2: bank b takes the lane whose position falls in it (at most one)
    integer b;
    always @* begin
        for (b = 0; b < P; b = b + 1) begin
            wr_en[b] = 1'b0;
            wr_row[b*CRB +: CRB] = {CRB{1'b0}};
            wr_dat[b*CEW +: CEW] = {CEW{1'b0}};
            for (p = 0; p < P; p = p + 1)
                if (l_v && l_en[p] && l_bnk[p*LB +: LB] == b) begin
                    wr_en[b] = 1'b1;
                    wr_row[b*CRB +: CRB] = l_row[p*CRB +: CRB];
                    wr_dat[b*CEW +: CEW] = l_dat[p*CEW +: CEW];
                end
        end
        wr_bank = l_bank;
        done = l_v && l_last;
        done_bank = l_bank;
        done_h = l_h;
        done_lj = l_lj;
        count = cnt;
    end
endmodule

// ------------------------------------------------------------------------------------------------ standalone unit
// topn_stream: one row = L scores streamed once as G = ceil(L/P) beats (lane p of beat g = key g P + p; lanes past
// L in the last beat are ignored). It emits exactly n = min(N, valid keys) keys of each row, one per cycle
// (out_valid with out_idx, out_h), in key order within the row, then raises out_done for one cycle: the cycle after
// the row's last kept key, with out_valid low in that cycle. It takes the next row while it emits this one: rows
// run back to back at one row per max(G, n + 1) cycles in steady state (plus a few cycles when G is so small that
// the scan's ceil(D/S) + 3 cycles exceed it). in_ready is low only while the unit's buffers are full, and for the
// ceil(D/S) cycles of clearing after rst. Every path starts and ends at a register (in_ready too): the input beat is
// registered before the histogram's read-modify-write.
// MASKED = 1 adds in_pad (a padding bit per lane: never kept; a row with nothing to keep emits only out_done).
module topn_stream #(
    parameter P = 1,
    parameter L = 512,
    parameter D = 64,
    parameter N = 64,
    parameter MASKED = 0,
    parameter SCAN = 0,        // bins scanned per cycle; 0 = the smallest power of two with ceil(D/SCAN) + 3 <= G
    parameter KD = 0           // kept-beat FIFO depth (LUTRAM); 0 = 16 for P = 1, else 64
) (
    input  wire            clk,
    input  wire            rst,        // synchronous, active high
    input  wire            in_valid,
    output reg             in_ready,
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
    localparam PIPE = (P > 4) ? 2 : (P > 1) ? 1 : 0;
    localparam S   = (SCAN > 0) ? SCAN : scan_bins(D, G, PIPE);
    localparam NW  = (D + S - 1) / S;
    localparam LASTW = L - (G - 1) * P;        // lanes holding a key in the last beat
    localparam GB  = (G > 1) ? $clog2(G) : 1;
    localparam ED  = P * HW;                   // the scores of a beat
    localparam SW  = ED + (MASKED ? P : 0);    // a score-FIFO word {pad, scores}
    localparam SAB = $clog2(2 * G + NW + 8);   // score FIFO: two rows (the next row scanned while pass 2 reads this one)
    localparam SD  = 1 << SAB;
    localparam KDX = (KD > 0) ? KD : (P == 1) ? 16 : 64;
    localparam KAB = $clog2(KDX);
    localparam PB  = $clog2(P + 1);
    localparam KEW = 1 + PB + P + GB + ED;     // kept-beat FIFO word {row end, #kept, kept lanes, beat, scores}

    function integer scan_bins;
        input integer d, g, pipe;
        integer s;
        begin
            s = 1;
            while ((d + s - 1) / s + 2 + pipe + (s > 1) > g && s < d) s = s * 2;
            scan_bins = s;
        end
    endfunction

    // ---------------------------------------------------------------- input stage I1 (registered beat)
    reg in_bank;                     // bank (= row parity) of the row being received
    reg [GB-1:0] in_g;               // its next beat
    reg in_first;                    // in_g == 0
    reg i_v, i_bank, i_last;
    reg [ED-1:0] i_h;
    reg [P-1:0] i_lv, i_pad;
    wire in_last = (in_g == G - 1);
    wire take_in = in_valid && in_ready;
    wire next_bank = (take_in && in_last) ? !in_bank : in_bank;   // bank of the next cycle's beat
    wire [P-1:0] in_pad_m = MASKED ? in_pad : {P{1'b0}};

    wire [1:0] bank_busy;
    wire clearing;
    wire r_valid, r_bank;
    wire [HW-1:0] r_t, r_hmin;
    wire [KW-1:0] r_take, r_n;
    reg r_ack;
    topn_hist #(.P(P), .D(D), .G(G), .NK(NK), .HW(HW), .KW(KW), .S(S), .PIPE(PIPE), .HOLD(1), .MASKED(MASKED)) hist (
        .clk(clk), .rst(rst), .ce(1'b1), .beat_valid(i_v), .beat_bank(i_bank), .beat_last(i_last), .beat_h(i_h),
        .beat_lv(i_lv), .bank_busy(bank_busy), .clearing(clearing), .res_valid(r_valid), .res_ack(r_ack),
        .res_bank(r_bank), .res_t(r_t), .res_take(r_take), .res_hmin(r_hmin), .res_n(r_n));

    // ---------------------------------------------------------------- score FIFO (block RAM, registered read)
    reg [SW-1:0] smem [0:SD-1];
    reg [SAB:0] s_wr, s_rd;          // pointers (one wrap bit)
    reg [SAB:0] s_occ;               // beats accepted (in I1 or written) and not yet read by pass 2
    wire [SW-1:0] s_din;
    generate
        if (MASKED) begin : s_pad
            assign s_din = {i_pad, i_h};
        end else begin : s_nopad
            assign s_din = i_h;
        end
    endgenerate
    always @(posedge clk) if (i_v) smem[s_wr[SAB-1:0]] <= s_din;

    // ---------------------------------------------------------------- pass 2: K0 read, topn_keep (2 stages), push
    reg [GB-1:0] k_g;                // beat pass 2 reads next
    reg [KAB:0] kf_wr, kf_rd;        // kept-beat FIFO pointers (one wrap bit)
    reg k_room;                      // registered: room for the beats pass 2 may start
    wire k_first = (k_g == 0);
    wire k_go = (!k_first || r_valid) && (s_wr != s_rd) && k_room;
    always @* r_ack = k_go && k_first;

    // the row's T and take: held by topn_hist until the ack (K0 of the row's first beat), and its next scan cannot
    // change them before the end of the cycle after (K1, when topn_keep samples them)
    reg k1_v, k1_first, k1_last;
    reg [SW-1:0] k1_d;
    always @(posedge clk) if (k_go) k1_d <= smem[s_rd[SAB-1:0]];
    wire [P-1:0] k1_pad;
    wire [P-1:0] k1_lv;
    genvar lg;
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
    wire kv;
    wire [P-1:0] kmask;
    localparam KST = (P > 4) ? 3 : (P > 1) ? 2 : 1;    // topn_keep stages
    topn_keep #(.P(P), .HW(HW), .KW(KW), .STAGES(KST)) keep (
        .clk(clk), .rst(rst), .en(1'b1), .in_v(k1_v), .in_first(k1_first), .lv(k1_lv), .h(k1_d[ED-1:0]),
        .in_t(r_t), .in_take(r_take), .kept_v(kv), .kept(kmask));
    // the beat's scores and row facts alongside topn_keep's KST stages (a delay line; k3_* = at its output)
    reg [KST*(ED+KW+2)-1:0] k_line;
    wire [ED+KW+1:0] k1_facts;
    reg k3_first, k3_last;
    reg [ED-1:0] k3_h;
    reg [GB-1:0] k3_g;               // beat index of the entry pushed (counts the beats leaving topn_keep)
    reg [KW-1:0] k1_n, k3_n;         // n of the row (MASKED; else the constant NK)
    assign k1_facts = {k1_first, k1_last, k1_n, k1_d[ED-1:0]};
    always @* {k3_first, k3_last, k3_n, k3_h} = k_line[(KST-1)*(ED+KW+2) +: ED+KW+2];
    reg [KW-1:0] k_left;             // kept keys of this row not yet pushed
    wire [KW-1:0] nk_c = NK;
    wire [KW-1:0] k3_nn = MASKED ? k3_n : nk_c;
    integer kq;
    reg [PB-1:0] k3_cnt;
    always @* begin
        k3_cnt = {PB{1'b0}};
        for (kq = 0; kq < P; kq = kq + 1) k3_cnt = k3_cnt + kmask[kq];
    end
    wire [KW-1:0] k3_left = k3_first ? k3_nn : k_left;
    // the entry of this beat ends the row: it holds the row's last kept key, or the row keeps nothing
    wire k3_end = (k3_left != 0 && k3_left == k3_cnt) || (k3_last && k3_nn == 0);
    wire k3_push = kv && (kmask != 0 || (k3_last && k3_nn == 0));

    // ---------------------------------------------------------------- kept-beat FIFO (LUTRAM, first word falls through)
    reg [KEW-1:0] kmem [0:KDX-1];
    always @(posedge clk) if (k3_push) kmem[kf_wr[KAB-1:0]] <= {k3_end, k3_cnt, kmask, k3_g, k3_h};
    wire [KEW-1:0] head = kmem[kf_rd[KAB-1:0]];
    wire hd_end = head[KEW-1];
    wire [P-1:0] hd_mask = head[KEW-2-PB -: P];
    wire [GB-1:0] hd_g = head[ED +: GB];
    wire [ED-1:0] hd_h = head[ED-1:0];
    wire kf_any = kf_wr != kf_rd;

    // ---------------------------------------------------------------- emitter: one key per cycle
    // The entry being emitted: the FIFO head itself (P = 1), or a register copy of it (P > 1: the lane choice and
    // the FIFO's read side then start from registers).
    reg done_pend;                   // the row's last key left: out_done next, no key
    reg cur_v, cur_end;
    reg [P-1:0] cur_mask;            // lanes still to emit
    reg [PB-1:0] cur_left;           // how many (P > 1)
    reg [GB-1:0] cur_g;
    reg [ED-1:0] cur_h;
    integer ep;
    reg [P-1:0] low;                 // lowest pending lane (one-hot): each lane checks the lanes below it at once
    reg [IW-1:0] e_lane;
    reg [HW-1:0] e_h;
    always @* begin
        e_lane = {IW{1'b0}};
        e_h = {HW{1'b0}};
        for (ep = 0; ep < P; ep = ep + 1) begin
            low[ep] = cur_mask[ep] && ((cur_mask & ((1 << ep) - 1)) == 0);
            if (low[ep]) e_lane = e_lane | ep;
            e_h = e_h | (cur_h[ep*HW +: HW] & {HW{low[ep]}});
        end
    end
    wire [P-1:0] rest = cur_mask & ~low;
    wire one_left = (P == 1) ? 1'b1 : (cur_left <= 1);
    wire emit = cur_v && !done_pend && ((P == 1) ? cur_mask != 0 : cur_left != 0);
    wire done_only = cur_v && !done_pend && !emit;            // an entry of a row with nothing to keep
    wire fin = cur_v && !done_pend && one_left;               // the entry is used up this cycle
    wire pop = (P == 1) ? fin : (kf_any && (!cur_v || fin));  // the FIFO head leaves (P > 1: into cur)
    wire [IW+GB:0] e_idx = cur_g * P + e_lane;
    generate
        if (P == 1) begin : cur_head
            always @* begin
                cur_v = kf_any; cur_end = hd_end; cur_mask = hd_mask; cur_g = hd_g; cur_h = hd_h;
                cur_left = hd_mask;
            end
        end else begin : cur_reg
            always @(posedge clk) begin
                if (rst) begin
                    cur_v <= 1'b0;
                end else if (pop) begin
                    {cur_end, cur_left, cur_mask, cur_g, cur_h} <= head;
                    cur_v <= 1'b1;
                end else if (fin) begin
                    cur_v <= 1'b0;
                end else if (emit) begin
                    cur_mask <= rest;
                    cur_left <= cur_left - 1'b1;
                end
            end
        end
    endgenerate

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        if (rst) begin
            in_bank <= 1'b0; in_g <= 0; in_first <= 1'b1; in_ready <= 1'b0; i_v <= 1'b0;
            s_wr <= 0; s_rd <= 0; s_occ <= 0;
            k_g <= 0; k1_v <= 1'b0; k3_g <= 0; kf_wr <= 0; kf_rd <= 0; k_room <= 1'b1;
            done_pend <= 1'b0; out_valid <= 1'b0; out_done <= 1'b0;
        end else begin
            // input: in_ready for the next cycle, from what this cycle leaves (a row may start once its bank is
            // scanned; keep one score-FIFO slot for the beat in flight)
            i_v <= take_in;
            if (take_in) begin
                i_h <= in_h; i_bank <= in_bank; i_last <= in_last; i_pad <= in_pad_m;
                for (kq = 0; kq < P; kq = kq + 1) i_lv[kq] <= !in_pad_m[kq] && !(in_last && kq >= LASTW);
                in_g <= in_last ? {GB{1'b0}} : in_g + 1'b1;
                in_first <= in_last;
                if (in_last) in_bank <= !in_bank;
            end
            s_occ <= s_occ + take_in - k_go;
            // (s_occ of this cycle, two slots kept for the beats that move meanwhile)
            // (a row's bank is busy from its last beat in I1 until its scan ends)
            in_ready <= !clearing && s_occ < SD - 3 && !((take_in ? in_last : in_first) &&
                        (bank_busy[next_bank] || (i_v && i_last && i_bank == next_bank)));
            if (i_v) s_wr <= s_wr + 1'b1;
            // K0
            if (k_go) begin
                s_rd <= s_rd + 1'b1;
                if (k_first) k1_n <= r_n;
                k_g <= (k_g == G - 1) ? {GB{1'b0}} : k_g + 1'b1;
            end
            k1_v <= k_go; k1_first <= k_first; k1_last <= (k_g == G - 1);
            // alongside topn_keep
            k_line <= (KST > 1) ? {k_line, k1_facts} : k1_facts;
            if (kv) begin
                k_left <= k3_left - k3_cnt;
                k3_g <= (k3_g == G - 1) ? {GB{1'b0}} : k3_g + 1'b1;
            end
            if (k3_push) kf_wr <= kf_wr + 1'b1;
            // room for a beat started now: FIFO entries + up to KST + 1 beats in flight + this one (registered)
            k_room <= (kf_wr - kf_rd) < KDX - KST - 3;
            // emitter
            out_valid <= emit;
            out_done <= done_pend || done_only;
            if (emit) begin
                out_idx <= e_idx[IW-1:0];
                out_h <= e_h;
            end
            done_pend <= emit && one_left && cur_end;
            if (pop) kf_rd <= kf_rd + 1'b1;
        end
    end
endmodule
`default_nettype wire
