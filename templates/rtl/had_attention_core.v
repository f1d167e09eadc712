// had-hls RTL twin of templates/hls/nnet_had_attention.h (had_attention_core, from the projections on) and of
// golden.attention_trace (kind 'had'): Hamming scores -> counting top-N -> exp-table softmax over the kept keys
// -> S and AV over the kept keys only (sparse AV) -> reciprocal normalisation -> context rows.
//
// Interfaces (valid/ready streams, one clock, synchronous active-high reset):
//   in  : L beats per input, token t = 0..L-1: in_q / in_k = the sign bits of the Q / K projections of token t
//         (bit h*D + c = 1 where the accumulator is < 0), in_v = its value mantissas (element o at [o*VW +: VW]),
//         in_pad = 1 for a padded key (never attended).
//   ctx : L beats, query row i = 0..L-1 (all H heads), element o at [o*CW +: CW] (context mantissas).
// The Q/K/V projections are NOT in this core (they are fed in; see docs/rtl.md).
//
// Storage: every buffer is a memory with one write port and one synchronous read port (Yosys infers $mem and maps
// it to LUTRAM / BRAM; no variable-index register vectors, no multi-port memories):
//   qmem           L x E bits                    Q codes, read once per cycle at the job's query row
//   kb[p].kmem     ceil((L-p)/P) x E bits        K bit memory banked by lane: key j in bank j mod P, row j div P
//                                                (sum over the P banks = L x E bits = L x d bits per head)
//   kb[p].vldmem   ceil((L-p)/P) x 1             key valid (not padded), same banking
//   hbuf           2G x P(HB+1)                  distances + lane valid of one job, ping-pong halves (address bit)
//   cb[b].cbuf     2 ceil(N/P) x (KB+HB)         compaction buffer of the kept keys (key index, ham - hmin), P banks
//                                                by position mod P, ping-pong halves
//   vr[a].vmem     L x E*VW                      V, replicated PA times (one read port per AV lane)
//
// One job per (query i, head h), G = ceil(L/P), NA = ceil(min(N, L) / PA), PA = max(1, ceil(min(N, L) / G)).
// Fixed schedule (offsets from the job's first A0 cycle; a job starts every G cycles, stages overlap):
//   A0 [0, G)          read qmem[i], kb[p] row g (all P banks)
//   A1 [1, G]          P Hamming lanes (hamming_unit) -> hbuf[job parity][g] + (d+1)-bin histogram (ping-pong regs)
//   B0 [G+1, 2G]       read hbuf[parity][g]
//   B1 [G+2, 2G+1]     threshold / take / hmin (topn_threshold, from the finished histogram), per lane keep
//                      (topn_keep); the kept keys of the cycle (<= P, in key order) are compacted into cbuf at
//                      consecutive positions (each position in its own bank: P single-port writes never conflict)
//   AV0 [2G+2, +NA)    read cbuf positions r PA .. r PA + PA - 1 (consecutive: PA <= P distinct banks)
//   AV1                e = exp_table[ham - hmin] (PA table_rom), read vr[a].vmem[key] (replica a serves lane a;
//                      positions past the job's count read row 0 with e = 0)
//   AV2                S += e, acc[c] += e v[c] over PA lanes (softmax_av_lanes av_u, PA * D MACs)
//   C  (1 + D/DN)      normalise_row norm_u: snapshot S and acc, reciprocal (synchronous ROM), then DN elements per
//                      cycle (DN = the smallest divisor of D with D/DN <= G) shifted into the context row; after head
//                      H-1 the row is emitted.
// A job keeps min(N, valid keys) <= N <= PA * NA keys, so the sparse AV keeps up with one job per G cycles:
// a query row costs H * ceil(L/P) cycles in steady state; the last context row of an input leaves
// L H G + G + NA + D/DN + 6 cycles after the last key is loaded (pipeline depth, RtlDesign.pipeline_depth).
// The exact integer sums S and acc do not depend on the order of the kept keys: bit-identical to the dense form.
// Cost: AV MACs PA * D (the FP core: P * D); memory bits L E (K) + L (valid) + 2 G P (HB+1) (hbuf)
// + 2 ceil(N/P) P (KB+HB) (cbuf) + PA L E VW (V replicas; the FP core banks one copy, L E VW) + L E (Q).
// Back-pressure: when a finished row cannot leave (ctx_valid && !ctx_ready) the whole pipeline holds (en = 0),
// so the schedule above holds in every case and timing does not depend on the data.
`default_nettype none
module had_attention_core #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
    parameter N    = 4,
    parameter PA   = 0,     // AV lanes; 0 = derive max(1, ceil(min(N, L) / ceil(L/P))) (had_hls.rtl passes it)
    parameter DN   = 0,     // normaliser lanes; 0 = derive: the smallest divisor of D with D / DN <= ceil(L/P)
    parameter HB   = 4,     // spec.widths['ham']
    parameter KW   = 3,     // bits of a count up to min(N, L)
    parameter S    = 1,     // top-N scan bins per cycle (a power of two with ceil(D / S) <= ceil(L/P))
    parameter EW   = 18,    // exp table width
    parameter RW   = 18,    // recip table width
    parameter R    = 10,    // recip_index_bits
    parameter SUMW = 21,    // spec.widths['sum']
    parameter AVW  = 40,    // spec.widths['av_acc']
    parameter NPW  = 59,    // spec.widths['norm_prod']
    parameter VW   = 16,
    parameter CW   = 16,
    parameter VF   = 10,
    parameter RF   = 17,
    parameter CF   = 10,
    parameter EXP_FILE   = "exp_table.hex",
    parameter RECIP_FILE = "recip_table.hex"
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            in_valid,
    output wire            in_ready,
    input  wire [E-1:0]    in_q,
    input  wire [E-1:0]    in_k,
    input  wire [E*VW-1:0] in_v,
    input  wire            in_pad,
    output reg             ctx_valid,
    input  wire            ctx_ready,
    output reg  [E*CW-1:0] ctx_data,
    output wire            busy
);
    localparam D   = E / H;
    localparam G   = (L + P - 1) / P;            // groups of P keys per row
    localparam NK  = (N < L) ? N : L;            // keys kept per job at most
    localparam PAD = (NK + G - 1) / G;
    localparam PAX = (PA > 0) ? PA : ((PAD > 0) ? PAD : 1);
    localparam NA  = (NK + PAX - 1) / PAX > 0 ? (NK + PAX - 1) / PAX : 1;   // AV cycles per job
    localparam CDEP = (NK + P - 1) / P > 0 ? (NK + P - 1) / P : 1;         // cbuf rows per half
    localparam KB  = (L > 1) ? $clog2(L) : 1;    // key index bits
    localparam XB  = $clog2(L * P + E + G + 2) + 1;   // counters
    localparam LW  = HB + 1;                     // hbuf lane: {valid, ham}
    localparam TPIPE = (P > 4) ? 2 : (P > 1) ? 1 : 0;   // topn_hist: registers in the per-bin lane sum
    localparam KST = (P > 4) ? 3 : (P > 1) ? 2 : 1;     // topn_keep stages
    localparam NW  = (D + S - 1) / S;            // topn_hist scan cycles per job
    // hbuf: a beat is read back G + NW + TPIPE + (S > 1) + 2 cycles after it is written; JS jobs of G rows hold that
    localparam JS  = 2 + (NW + TPIPE + ((S > 1) ? 1 : 0) + 2) / G;
    localparam HBD = JS * G;
    localparam CRB = (CDEP > 1) ? $clog2(CDEP) : 1;
    localparam CEW = KB + HB;                    // cbuf entry: {key, ham - hmin}
    localparam LASTW = L - (G - 1) * P;          // lanes holding a key in the last group
    localparam DNX = (DN > 0) ? DN : norm_lanes(D, G);
    localparam NC  = D / DNX;                    // normalisation cycles per job

    function integer norm_lanes;
        input integer d, g;
        integer k;
        begin
            norm_lanes = d;
            for (k = d; k >= 1; k = k - 1) if (d % k == 0 && d / k <= g) norm_lanes = k;
        end
    endfunction

    reg run;
    assign busy = run;
    assign in_ready = !run && !rst;
    wire ld_we = in_valid && in_ready;

    // ---------------------------------------------------------------- pipeline enable (back-pressure)
    reg n_active, n_lj;
    reg [XB-1:0] n_k, n_h;
    wire c_emit;                                  // this cycle completes a context row (normaliser output)
    wire c_stall = c_emit && ctx_valid && !ctx_ready;
    wire en = !c_stall;

    // ---------------------------------------------------------------- load counters
    reg [XB-1:0] ld, ld_p, ld_r;

    // ---------------------------------------------------------------- stage A0: job counters, memory reads
    reg a_active, a_bank;
    reg [XB-1:0] a_g, a_i, a_h;
    wire a_fire = en && a_active;

    reg [E-1:0] qmem [0:L-1];
    reg [E-1:0] q_rd;
    always @(posedge clk) begin
        if (ld_we) qmem[ld] <= in_q;
        if (a_fire) q_rd <= qmem[a_i];
    end

    wire [P*E-1:0] k_rd;
    wire [P-1:0] vld_rd;
    genvar p, a, b;
    generate
        for (p = 0; p < P; p = p + 1) begin : kb
            localparam DEP0 = (L - p + P - 1) / P;
            localparam DEP = (DEP0 > 0) ? DEP0 : 1;
            reg [E-1:0] kmem [0:DEP-1];
            reg         vldmem [0:DEP-1];
            reg [E-1:0] rd;
            reg         vrd;
            always @(posedge clk) begin
                if (ld_we && ld_p == p) begin
                    kmem[ld_r] <= in_k;
                    vldmem[ld_r] <= !in_pad;
                end
                if (a_fire) begin
                    rd <= kmem[a_g];
                    vrd <= vldmem[a_g];
                end
            end
            assign k_rd[p*E +: E] = rd;
            assign vld_rd[p] = vrd;
        end
    endgenerate

    // ---------------------------------------------------------------- stage A1: Hamming lanes
    reg a1_v, a1_bank, a1_first, a1_last;
    reg [XB-1:0] a1_g, a1_h;
    wire [P-1:0] a_lv;
    wire [D-1:0] a_q;
    word_select #(.W(D), .N(H), .SB(XB)) a_qsel (.in(q_rd), .sel(a1_h), .out(a_q));
    wire [P*D-1:0] a_k;
    wire [P*HB-1:0] a_ham;
    generate
        for (p = 0; p < P; p = p + 1) begin : a_lane
            assign a_lv[p] = vld_rd[p] && (!a1_last || p < LASTW);
            wire [D-1:0] kh;
            word_select #(.W(D), .N(H), .SB(XB)) ksel (.in(k_rd[p*E +: E]), .sel(a1_h), .out(kh));
            // lanes past key L-1 in the last group read rows that were never written (x in 4-state simulation)
            if (p < LASTW) begin : in_range
                assign a_k[p*D +: D] = kh;
            end else begin : tail
                assign a_k[p*D +: D] = a1_last ? {D{1'b0}} : kh;
            end
        end
    endgenerate
    // A2 = the Hamming lanes' output (pipelined: the beat's facts travel as the tag)
    wire a2_v, a2_bank, a2_last;
    wire [P*HB-1:0] a2_ham;
    wire [P-1:0] a2_lv;
    hamming_unit #(.D(D), .P(P), .HB(HB), .TW(P + 3)) ham_u (
        .clk(clk), .rst(rst), .en(en), .q(a_q), .k(a_k), .in_tag({a1_v, a1_bank, a1_last, a_lv}), .ham(a2_ham),
        .out_tag({a2_v, a2_bank, a2_last, a2_lv}));

    // ---------------------------------------------------------------- stage A2: histogram (topn_hist), hbuf
    reg [XB-1:0] hb_wr, hb_rd;              // hbuf rows: job j, beat g at (j G + g) mod HBD, written and read in order
    reg [P*LW-1:0] hbuf [0:HBD-1];
    reg [P*LW-1:0] a2_hw;
    integer i;
    always @* begin
        for (i = 0; i < P; i = i + 1) a2_hw[i*LW +: LW] = {a2_lv[i], a2_ham[i*HB +: HB]};
    end
    always @(posedge clk) if (en && a2_v) hbuf[hb_wr] <= a2_hw;

    wire t_valid, t_bank;                   // the job's threshold, one cycle (topn_hist, HOLD = 0)
    wire [HB-1:0] t_t, t_hmin;
    wire [KW-1:0] t_take, t_n;
    topn_hist #(.P(P), .D(D), .G(G), .NK(NK), .HW(HB), .KW(KW), .S(S), .PIPE(TPIPE), .HOLD(0), .MASKED(1)) hist_u (
        .clk(clk), .rst(rst), .ce(en), .beat_valid(a2_v), .beat_bank(a2_bank), .beat_last(a2_last), .beat_h(a2_ham),
        .beat_lv(a2_lv), .bank_busy(), .clearing(), .res_valid(t_valid), .res_ack(1'b1), .res_bank(t_bank),
        .res_t(t_t), .res_take(t_take), .res_hmin(t_hmin), .res_n(t_n));
    reg [HB-1:0] th_t0, th_t1, th_hmin0, th_hmin1;   // thresholds by job parity
    reg [KW-1:0] th_take0, th_take1;
    always @(posedge clk) begin
        if (en && t_valid) begin
            if (t_bank) begin th_t1 <= t_t; th_take1 <= t_take; th_hmin1 <= t_hmin; end
            else begin th_t0 <= t_t; th_take0 <= t_take; th_hmin0 <= t_hmin; end
        end
    end

    // ---------------------------------------------------------------- stage B0: read hbuf (second pass)
    reg b_active, b_bank;
    reg [XB-1:0] b_g, b_key, b_h, b_i;      // beat, its first key; job head and query (B counts jobs in order)
    reg [P*LW-1:0] h_rd;
    always @(posedge clk) if (en && b_active) h_rd <= hbuf[hb_rd];

    // ---------------------------------------------------------------- stage B1..: keep (topn_keep, KST stages)
    reg b1_v, b1_bank, b1_first, b1_last, b1_lj;
    reg [XB-1:0] b1_h, b1_key;
    wire [P-1:0] b_lv;
    wire [P*HB-1:0] b_ham;
    generate
        for (p = 0; p < P; p = p + 1) begin : b_lane
            assign b_lv[p] = h_rd[p*LW + HB];
            assign b_ham[p*HB +: HB] = h_rd[p*LW +: HB];
        end
    endgenerate
    wire kept_v;
    wire [P-1:0] kept;
    topn_keep #(.P(P), .HW(HB), .KW(KW), .STAGES(KST)) keep_u (
        .clk(clk), .rst(rst), .en(en), .in_v(b1_v), .in_first(b1_first), .lv(b_lv), .h(b_ham),
        .in_t(b1_bank ? th_t1 : th_t0), .in_take(b1_bank ? th_take1 : th_take0), .kept_v(kept_v), .kept(kept));
    // the beat's facts alongside topn_keep (hmin carried: the slot is rewritten for job j+2 as early as B1 + 1)
    localparam BFW = 4 + 2 * XB + P * HB + HB;
    reg [KST*BFW-1:0] b_line;
    wire [BFW-1:0] b1_facts = {b1_bank, b1_first, b1_last, b1_lj, b1_h, b1_key, b_ham,
                               b1_bank ? th_hmin1 : th_hmin0};
    wire k_bank, k_first, k_last, k_lj;
    wire [XB-1:0] k_h, k_key;
    wire [P*HB-1:0] k_ham;
    wire [HB-1:0] k_hmin;
    assign {k_bank, k_first, k_last, k_lj, k_h, k_key, k_ham, k_hmin} = b_line[(KST-1)*BFW +: BFW];
    always @(posedge clk) if (en) b_line <= (KST > 1) ? {b_line, b1_facts} : b1_facts;

    // ---------------------------------------------------------------- compaction (topn_compact)
    wire [P-1:0] cw_en;
    wire [P*CRB-1:0] cw_row;
    wire [P*CEW-1:0] cw_dat;
    wire cw_bank, c_done, c_done_bank, c_done_lj;
    wire [XB-1:0] c_done_h;
    wire [KW-1:0] c_count;
    topn_compact #(.P(P), .HW(HB), .KB(KB), .XB(XB), .KW(KW), .CRB(CRB)) compact_u (
        .clk(clk), .rst(rst), .en(en), .in_v(kept_v), .in_first(k_first), .in_last(k_last), .in_bank(k_bank),
        .in_h(k_h), .in_lj(k_lj), .kept(kept), .ham(k_ham), .key(k_key),
        .hmin(k_hmin), .wr_en(cw_en), .wr_row(cw_row), .wr_dat(cw_dat), .wr_bank(cw_bank),
        .done(c_done), .done_bank(c_done_bank), .done_h(c_done_h), .done_lj(c_done_lj), .count(c_count));

    reg [KW-1:0] n0, n1;     // kept keys of the job in each cbuf half
    always @(posedge clk) begin
        if (en && c_done) begin
            if (c_done_bank) n1 <= c_count;
            else n0 <= c_count;
        end
    end

    // ---------------------------------------------------------------- stage AV0: read PA consecutive cbuf positions
    reg av_active, av_bank, av_lj;
    reg [XB-1:0] av_r, av_h, r_row, r_bnk, r_pos;
    wire [P*CEW-1:0] cb_rd;
    generate
        for (b = 0; b < P; b = b + 1) begin : cb
            reg [CEW-1:0] cbuf [0:2*CDEP-1];
            reg [CEW-1:0] rd;
            wire [XB-1:0] row = (b >= r_bnk) ? r_row : r_row + 1'b1;
            always @(posedge clk) begin
                if (en && cw_en[b]) cbuf[cw_bank * CDEP + cw_row[b*CRB +: CRB]] <= cw_dat[b*CEW +: CEW];
                if (en && av_active) rd <= cbuf[av_bank * CDEP + row];
            end
            assign cb_rd[b*CEW +: CEW] = rd;
        end
    endgenerate

    // ---------------------------------------------------------------- stage AV1: entries -> e, V reads
    reg av1_v, av1_bank, av1_first, av1_last, av1_lj;
    reg [XB-1:0] av1_h, av1_bnk, av1_pos;
    wire [XB-1:0] av1_n = av1_bank ? n1 : n0;
    reg av2_v, av2_first, av2_last, av2_lj;
    reg [XB-1:0] av2_h;
    wire [PAX*D*VW-1:0] av2_vv;
    wire [PAX*EW-1:0] av2_ee;
    generate
        for (a = 0; a < PAX; a = a + 1) begin : vr
            wire [XB-1:0] sb = av1_bnk + a;
            wire [XB-1:0] sbank = (sb >= P) ? sb - P : sb;
            wire [CEW-1:0] ent;
            word_select #(.W(CEW), .N(P), .SB(XB)) esel (.in(cb_rd), .sel(sbank), .out(ent));
            wire ok = (av1_pos + a) < av1_n;
            wire [KB-1:0] key = ok ? ent[CEW-1 -: KB] : {KB{1'b0}};   // unused positions read row 0 (e = 0)
            wire [EW-1:0] e_raw;
            table_rom #(.DEPTH(D + 1), .AW(HB), .DW(EW), .FILE(EXP_FILE)) exp_rom (
                .addr(ent[HB-1:0]), .data(e_raw));
            reg [E*VW-1:0] vmem [0:L-1];
            reg [E*VW-1:0] rd;
            reg ok2;
            reg [EW-1:0] e2;
            always @(posedge clk) begin
                if (ld_we) vmem[ld] <= in_v;
                if (en && av1_v) begin
                    rd <= vmem[key];
                    ok2 <= ok;
                    e2 <= ok ? e_raw : {EW{1'b0}};
                end
            end
            word_select #(.W(D*VW), .N(H), .SB(XB)) vsel (.in(rd), .sel(av2_h), .out(av2_vv[a*D*VW +: D*VW]));
            assign av2_ee[a*EW +: EW] = e2;
        end
    endgenerate

    // ---------------------------------------------------------------- stage AV2: S and AV over the kept keys
    wire [SUMW-1:0] av_sum;
    wire [D*AVW-1:0] av_acc;
    wire av_done, av_done_lj;                     // S and AV of a job final (pipelined: the job's head and last flag
    wire [XB-1:0] av_done_h;                      // travel with it)
    softmax_av_lanes #(.P(PAX), .D(D), .EW(EW), .VW(VW), .SUMW(SUMW), .AVW(AVW), .TW(XB + 1)) av_u (
        .clk(clk), .rst(rst), .en(en), .in_v(av2_v), .in_first(av2_first), .in_last(av2_last), .e(av2_ee),
        .v(av2_vv), .in_tag({av2_h, av2_lj}), .sum(av_sum), .av(av_acc), .done(av_done),
        .out_tag({av_done_h, av_done_lj}));

    // ---------------------------------------------------------------- stage C: normalise (DN elements per cycle)
    wire [DNX*CW-1:0] ctx_dn;
    wire o_v, o_row_end, o_fin;                   // a normalised group leaves; it ends a context row / the input
    normalise_row #(.D(D), .DN(DNX), .SUMW(SUMW), .AVW(AVW), .RW(RW), .R(R), .NPW(NPW), .CW(CW), .VF(VF), .RF(RF),
                    .CF(CF), .TW(2), .RECIP_FILE(RECIP_FILE)) norm_u (
        .clk(clk), .rst(rst), .en(en), .load(av_done), .step(n_active), .sum(av_sum), .acc(av_acc),
        .in_tag({n_k == NC - 1 && n_h == H - 1, n_k == NC - 1 && n_h == H - 1 && n_lj}), .ctx(ctx_dn), .out_v(o_v),
        .out_tag({o_row_end, o_fin}));
    assign c_emit = o_v && o_row_end;
    reg [E*CW-1:0] ctxrow;                        // shift register: the row's elements enter at the top, in order
    wire [E*CW-1:0] row_next;
    generate
        if (E == DNX) begin : row_one
            assign row_next = ctx_dn;
        end else begin : row_shift
            assign row_next = {ctx_dn, ctxrow[E*CW-1:DNX*CW]};
        end
    endgenerate

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        if (rst) begin
            run <= 1'b0; ld <= 0; ld_p <= 0; ld_r <= 0;
            a_active <= 1'b0; a_bank <= 1'b0; a_g <= 0; a_i <= 0; a_h <= 0;
            a1_v <= 1'b0; hb_wr <= 0; hb_rd <= 0;
            b_active <= 1'b0; b_h <= 0; b_i <= 0; b1_v <= 1'b0;
            av_active <= 1'b0; av1_v <= 1'b0; av2_v <= 1'b0;
            n_active <= 1'b0; ctx_valid <= 1'b0;
        end else begin
            // load: token ld -> qmem[ld], bank ld mod P row ld div P, V replicas [ld]
            if (ld_we) begin
                if (ld == L - 1) begin
                    ld <= 0; ld_p <= 0; ld_r <= 0;
                    run <= 1'b1;
                    a_active <= 1'b1; a_g <= 0; a_i <= 0; a_h <= 0;   // a_bank runs on: job parity
                end else begin
                    ld <= ld + 1'b1;
                    if (ld_p == P - 1) begin ld_p <= 0; ld_r <= ld_r + 1'b1; end
                    else ld_p <= ld_p + 1'b1;
                end
            end
            if (en) begin
                // A0
                if (a_active) begin
                    if (a_g == G - 1) begin
                        a_g <= 0;
                        a_bank <= !a_bank;
                        if (a_h == H - 1) begin
                            a_h <= 0;
                            a_i <= a_i + 1'b1;
                            if (a_i == L - 1) a_active <= 1'b0;
                        end else begin
                            a_h <= a_h + 1'b1;
                        end
                    end else begin
                        a_g <= a_g + 1'b1;
                    end
                end
                // A1
                a1_v <= a_active; a1_g <= a_g; a1_h <= a_h; a1_bank <= a_bank;
                a1_first <= (a_g == 0); a1_last <= (a_g == G - 1);
                // A2
                if (a2_v) hb_wr <= (hb_wr == HBD - 1) ? 0 : hb_wr + 1'b1;
                // B0: starts when the job's threshold arrives (jobs in order: B counts head and query itself)
                if (b_active && b_g == G - 1) begin   // a job ends: the next one's head and query
                    if (b_h == H - 1) begin
                        b_h <= 0;
                        b_i <= (b_i == L - 1) ? 0 : b_i + 1'b1;
                    end else begin
                        b_h <= b_h + 1'b1;
                    end
                end
                if (t_valid) begin
                    b_active <= 1'b1; b_g <= 0; b_key <= 0; b_bank <= t_bank;
                end else if (b_active) begin
                    if (b_g == G - 1) b_active <= 1'b0;
                    b_g <= b_g + 1'b1;
                    b_key <= b_key + P;
                end
                if (b_active) hb_rd <= (hb_rd == HBD - 1) ? 0 : hb_rd + 1'b1;
                // B1
                b1_v <= b_active; b1_bank <= b_bank; b1_h <= b_h; b1_key <= b_key;
                b1_lj <= (b_i == L - 1) && (b_h == H - 1);
                b1_first <= (b_g == 0); b1_last <= (b_g == G - 1);
                // AV0: starts when the compaction has written the job's last slots
                if (c_done) begin
                    av_active <= 1'b1; av_r <= 0; av_bank <= c_done_bank; av_h <= c_done_h; av_lj <= c_done_lj;
                    r_row <= 0; r_bnk <= 0; r_pos <= 0;
                end else if (av_active) begin
                    if (av_r == NA - 1) av_active <= 1'b0;
                    av_r <= av_r + 1'b1;
                    r_pos <= r_pos + PAX;
                    if (r_bnk + PAX >= P) begin r_bnk <= r_bnk + PAX - P; r_row <= r_row + 1'b1; end
                    else r_bnk <= r_bnk + PAX;
                end
                // AV1
                av1_v <= av_active; av1_bank <= av_bank; av1_h <= av_h; av1_lj <= av_lj;
                av1_first <= (av_r == 0); av1_last <= (av_r == NA - 1); av1_bnk <= r_bnk; av1_pos <= r_pos;
                // AV2
                av2_v <= av1_v; av2_h <= av1_h; av2_lj <= av1_lj; av2_first <= av1_first; av2_last <= av1_last;
                // C: load the normaliser (av_done), then NC steps of DN elements; rows assembled at its output
                if (av_done) begin
                    n_active <= 1'b1; n_k <= 0; n_h <= av_done_h; n_lj <= av_done_lj;
                end else if (n_active) begin
                    if (n_k == NC - 1) n_active <= 1'b0;
                    n_k <= n_k + 1'b1;
                end
                if (o_v) begin
                    ctxrow <= row_next;
                    if (o_row_end) begin
                        ctx_data <= row_next;
                        ctx_valid <= 1'b1;
                    end
                    if (o_fin) run <= 1'b0;
                end
            end
            if (ctx_valid && ctx_ready && !(en && c_emit)) ctx_valid <= 1'b0;
        end
    end
endmodule
`default_nettype wire
