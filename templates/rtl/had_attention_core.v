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
// Shared with fp_attention_core: attention_control (instance ctl) holds the load, the Q / K (/ V) memories, the job
// counters, the score buffer and the second pass's counters, softmax_av_lanes, normalise_row, the context row
// and the back-pressure; this file holds what differs. Every parameter is derived once, in Python
// (had_hls.rtl.generate.design_for), and none here.
`default_nettype none
module had_attention_core #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
    parameter N    = 4,
    parameter D    = 8,     // E / H
    parameter G    = 2,     // ceil(L / P)
    parameter NK   = 4,     // min(N, L): keys kept per job at most
    parameter PA   = 2,     // AV lanes: max(1, ceil(NK / G))
    parameter NA   = 2,     // AV cycles per job: ceil(NK / PA)
    parameter DN   = 4,     // normaliser lanes: the smallest divisor of D with D / DN <= G
    parameter NC   = 2,     // D / DN normalisation cycles per job
    parameter HB   = 4,     // spec.widths['ham']
    parameter KW   = 3,     // bits of a count up to NK
    parameter S    = 4,     // top-N scan bins per cycle (a power of two with ceil(D / S) <= G)
    parameter TPIPE = 1,    // topn_hist: registers in the per-bin lane sum
    parameter KST  = 2,     // topn_keep stages
    parameter BD   = 10,    // hbuf rows: JS jobs of G rows hold a beat until the second pass reads it
    parameter CDEP = 1,     // cbuf rows per half: max(1, ceil(NK / P))
    parameter CRB  = 1,     // bits of a cbuf row
    parameter KB   = 3,     // key index bits
    parameter XB   = 7,     // counter bits
    parameter LASTW = 4,    // lanes holding a key in the last group: L - (G - 1) P
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
    output wire            ctx_valid,
    input  wire            ctx_ready,
    output wire [E*CW-1:0] ctx_data,
    output wire            busy
);
    localparam LW  = HB + 1;                     // hbuf lane: {valid, ham}
    localparam CEW = KB + HB;                    // cbuf entry: {key, ham - hmin}

    // ---------------------------------------------------------------- load, A0/A1, hbuf, B0/B1, AV, normaliser
    wire en, ld_we;
    wire [XB-1:0] ld;
    wire a1_v, a1_bank, a1_first, a1_last;
    wire [XB-1:0] a1_h;
    wire [P-1:0] a_lv;
    wire [D-1:0] a_q;
    wire [P*D-1:0] a_k;
    wire a2_v, a2_bank, a2_last;                 // the Hamming lanes' output
    wire [P*HB-1:0] a2_ham;
    wire [P-1:0] a2_lv;
    reg [P*LW-1:0] a2_hw;
    wire [P*LW-1:0] h_rd;
    wire t_valid, t_bank;                        // the job's threshold, one cycle (topn_hist, HOLD = 0)
    wire b1_v, b1_bank, b1_first, b1_last, b1_lj;
    wire [XB-1:0] b1_h, b1_key;
    reg av2_v, av2_first, av2_last, av2_lj;
    reg [XB-1:0] av2_h;
    wire [PA*D*VW-1:0] av2_vv;
    wire [PA*EW-1:0] av2_ee;
    attention_control #(.L(L), .E(E), .H(H), .P(P), .D(D), .G(G), .LASTW(LASTW), .XB(XB), .QW(1), .VW(VW),
        .VBANK(0), .BLW(LW), .BD(BD), .PV(PA), .EW(EW), .SUMW(SUMW), .AVW(AVW), .DN(DN), .NC(NC), .RW(RW), .R(R),
        .NPW(NPW), .CW(CW), .VF(VF), .RF(RF), .CF(CF), .RECIP_FILE(RECIP_FILE)) ctl (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_q(in_q), .in_k(in_k), .in_v(in_v),
        .in_pad(in_pad), .ctx_valid(ctx_valid), .ctx_ready(ctx_ready), .ctx_data(ctx_data), .busy(busy),
        .en(en), .ld_we(ld_we), .ld(ld),
        .a1_v(a1_v), .a1_bank(a1_bank), .a1_first(a1_first), .a1_last(a1_last), .a1_h(a1_h), .a_lv(a_lv),
        .a_q(a_q), .a_k(a_k),
        .buf_we(a2_v), .buf_wd(a2_hw), .buf_rd(h_rd), .b_start(t_valid), .b_start_bank(t_bank),
        .b1_v(b1_v), .b1_bank(b1_bank), .b1_first(b1_first), .b1_last(b1_last), .b1_lj(b1_lj), .b1_h(b1_h),
        .b1_g(), .b1_key(b1_key), .v_re(1'b0), .v_g({XB{1'b0}}), .v_rd(),
        .av_v(av2_v), .av_first(av2_first), .av_last(av2_last), .av_lj(av2_lj), .av_h(av2_h), .av_e(av2_ee),
        .av_vv(av2_vv));

    // ---------------------------------------------------------------- stage A1..A2: Hamming lanes
    hamming_unit #(.D(D), .P(P), .HB(HB), .TW(P + 3)) ham_u (
        .clk(clk), .rst(rst), .en(en), .q(a_q), .k(a_k), .in_tag({a1_v, a1_bank, a1_last, a_lv}), .ham(a2_ham),
        .out_tag({a2_v, a2_bank, a2_last, a2_lv}));

    // ---------------------------------------------------------------- stage A2: histogram (topn_hist), hbuf
    integer i;
    always @* begin
        for (i = 0; i < P; i = i + 1) a2_hw[i*LW +: LW] = {a2_lv[i], a2_ham[i*HB +: HB]};
    end
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

    // ---------------------------------------------------------------- stage B1..: keep (topn_keep, KST stages)
    wire [P-1:0] b_lv;
    wire [P*HB-1:0] b_ham;
    genvar p, a, b;
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
    generate
        for (a = 0; a < PA; a = a + 1) begin : vr
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

    // ---------------------------------------------------------------- control of AV0..AV2 (AV2: ctl.av_u)
    always @(posedge clk) begin
        if (rst) begin
            av_active <= 1'b0; av1_v <= 1'b0; av2_v <= 1'b0;
        end else if (en) begin
            // AV0: starts when the compaction has written the job's last slots
            if (c_done) begin
                av_active <= 1'b1; av_r <= 0; av_bank <= c_done_bank; av_h <= c_done_h; av_lj <= c_done_lj;
                r_row <= 0; r_bnk <= 0; r_pos <= 0;
            end else if (av_active) begin
                if (av_r == NA - 1) av_active <= 1'b0;
                av_r <= av_r + 1'b1;
                r_pos <= r_pos + PA;
                if (r_bnk + PA >= P) begin r_bnk <= r_bnk + PA - P; r_row <= r_row + 1'b1; end
                else r_bnk <= r_bnk + PA;
            end
            // AV1
            av1_v <= av_active; av1_bank <= av_bank; av1_h <= av_h; av1_lj <= av_lj;
            av1_first <= (av_r == 0); av1_last <= (av_r == NA - 1); av1_bnk <= r_bnk; av1_pos <= r_pos;
            // AV2
            av2_v <= av1_v; av2_h <= av1_h; av2_lj <= av1_lj; av2_first <= av1_first; av2_last <= av1_last;
        end
    end
endmodule
`default_nettype wire
