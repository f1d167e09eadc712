// had-hls RTL twin of templates/hls/nnet_fp_attention.h (fp_attention_core, from the projections on) and of
// golden.attention_trace (kind 'fp'): the standard-attention baseline at the same parallelism P as the HAD core.
//
// Interfaces as had_attention_core, except in_q / in_k carry the Q / K projections converted to the qk type
// (E mantissas of QW bits, element o at [o*QW +: QW]) instead of sign bits.
// Storage (one write port, one synchronous read port each; Yosys maps them to LUTRAM / BRAM):
//   qmem           L x E*QW                   Q, read once per cycle at the job's query row
//   kb[p].kmem     ceil((L-p)/P) x E*QW       K banked by lane: key j in bank j mod P, row j div P (sum: L E QW bits)
//   kb[p].vldmem   ceil((L-p)/P) x 1          key valid (not padded)
//   kb[p].vmem     ceil((L-p)/P) x E*VW       V, same banking (one copy: L E VW bits)
//   sbuf           JS G x P(SW+1)             scores + lane valid, a circular buffer of JS jobs (written and read in
//                                             job order; JS = 2 + (LM + 3) / G holds the scores until the second pass)
// One job per (query i, head h), G = ceil(L/P); every stage registers its result and the job's facts travel as
// tags, so a stage starts when its input arrives (a job every G cycles in steady state):
//   A0        read qmem[i], kb[p] K row g
//   A1 .. A2  P lanes of D-term dot products (fp_score_unit: P*D multipliers, an adder tree) -> sbuf
//   A2 .. A3  the beat's largest valid score (fp_max_tree) -> the job's running max; at its last beat the max is
//             final and the second pass starts
//   B0        read the sbuf row of beat g
//   B1 ..     idx = min(T-1, round_half_up((smax - s) inv_sqrt_d >> sh)) (fp_exp_index, pipelined), then
//             fp_exp_table[idx] (table_rom_sync: block RAM) and kb[p] V row g
//   B2 ..     e for every valid key: S += e, acc[c] += e v[c] (softmax_av_lanes, dense: P * D MACs, pipelined)
//   C         normalise_row (shared with the HAD core, pipelined): snapshot, then DN elements per cycle.
// A query row costs H * ceil(L/P) cycles in steady state; the pipeline depth (last key loaded -> last context
// row, beyond L H G) is RtlDesign.pipeline_depth. The whole pipeline holds while a finished row waits
// (ctx_valid && !ctx_ready).
// Shared with had_attention_core: attention_control (instance ctl) holds the load, the Q / K (/ V) memories, the job
// counters, the score buffer and the second pass's counters, softmax_av_lanes, normalise_row, the context row
// and the back-pressure; this file holds what differs. Every parameter is derived once, in Python
// (had_hls.rtl.generate.design_for), and none here.
`default_nettype none
module fp_attention_core #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
    parameter D    = 8,     // E / H
    parameter G    = 2,     // ceil(L / P)
    parameter DN   = 4,     // normaliser lanes: the smallest divisor of D with D / DN <= G
    parameter NC   = 2,     // D / DN normalisation cycles per job
    parameter BD   = 8,     // sbuf rows: (2 + (LM + 3) / G) G, LM = fp_max_tree stages
    parameter XB   = 7,     // counter bits
    parameter LASTW = 4,    // lanes holding a key in the last group: L - (G - 1) P
    parameter QW   = 16,    // qk width
    parameter SW   = 36,    // spec.widths['score']
    parameter IPW  = 55,    // spec.widths['fp_index_prod']
    parameter INV  = 46341, // spec.fp_inv_sqrt_d
    parameter ISH  = 23,    // spec.fp_index_shift
    parameter T    = 1024,  // fp_exp_table_size
    parameter TB   = 10,    // spec.widths['fp_index']
    parameter EW   = 18,
    parameter RW   = 18,
    parameter R    = 10,
    parameter SUMW = 21,
    parameter AVW  = 40,
    parameter NPW  = 59,
    parameter VW   = 16,
    parameter CW   = 16,
    parameter VF   = 10,
    parameter RF   = 17,
    parameter CF   = 10,
    parameter PACK = 0,     // 1: two score lanes share each multiplier (Q/K of <= 8 bits, fp_score_unit)
    parameter ESH  = 1,     // 2: a pair of lanes shares one exp table (two read ports of one block RAM)
    parameter EXP_FILE   = "fp_exp_table.hex",
    parameter RECIP_FILE = "recip_table.hex"
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    output wire             in_ready,
    input  wire [E*QW-1:0]  in_q,
    input  wire [E*QW-1:0]  in_k,
    input  wire [E*VW-1:0]  in_v,
    input  wire             in_pad,
    output wire             ctx_valid,
    input  wire             ctx_ready,
    output wire [E*CW-1:0]  ctx_data,
    output wire             busy
);
    localparam LW = SW + 1;                      // sbuf lane: {valid, score}

    // ---------------------------------------------------------------- load, A0/A1, sbuf, B0/B1, AV, normaliser
    wire en;
    wire a1_v, a1_bank, a1_first, a1_last;
    wire [XB-1:0] a1_h;
    wire [P-1:0] a_lv;
    wire [D*QW-1:0] a_q;
    wire [P*D*QW-1:0] a_k;
    wire s_v, s_bank, s_first, s_last;           // A2: the scores, with the beat's facts
    wire [P-1:0] s_lv;
    wire [P*SW-1:0] a_s;
    reg [P*LW-1:0] a_sw;
    wire [P*LW-1:0] s_rd;
    wire m_v, m_bank, m_first, m_last, m_any;
    wire b1_v, b1_bank, b1_first, b1_last, b1_lj;
    wire [XB-1:0] b1_h, b1_g;
    wire [XB-1:0] v_g;                           // V row read for the second pass (beat of the exp-index output)
    wire v_re;
    wire [P*E*VW-1:0] v_rd;
    reg b2_v, b2_first, b2_last, b2_lj;
    reg [XB-1:0] b2_h;
    reg [P-1:0] b2_lv;
    wire [P*D*VW-1:0] b_v;
    wire [P*EW-1:0] b_e;
    attention_control #(.L(L), .E(E), .H(H), .P(P), .D(D), .G(G), .LASTW(LASTW), .XB(XB), .QW(QW), .VW(VW),
        .VBANK(1), .BLW(LW), .BD(BD), .PV(P), .EW(EW), .SUMW(SUMW), .AVW(AVW), .DN(DN), .NC(NC), .RW(RW), .R(R),
        .NPW(NPW), .CW(CW), .VF(VF), .RF(RF), .CF(CF), .RECIP_FILE(RECIP_FILE)) ctl (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_q(in_q), .in_k(in_k), .in_v(in_v),
        .in_pad(in_pad), .ctx_valid(ctx_valid), .ctx_ready(ctx_ready), .ctx_data(ctx_data), .busy(busy),
        .en(en), .ld_we(), .ld(),
        .a1_v(a1_v), .a1_bank(a1_bank), .a1_first(a1_first), .a1_last(a1_last), .a1_h(a1_h), .a_lv(a_lv),
        .a_q(a_q), .a_k(a_k),
        .buf_we(s_v), .buf_wd(a_sw), .buf_rd(s_rd), .b_start(m_v && m_last), .b_start_bank(m_bank),
        .b1_v(b1_v), .b1_bank(b1_bank), .b1_first(b1_first), .b1_last(b1_last), .b1_lj(b1_lj), .b1_h(b1_h),
        .b1_g(b1_g), .b1_key(), .v_re(v_re), .v_g(v_g), .v_rd(v_rd),
        .av_v(b2_v), .av_first(b2_first), .av_last(b2_last), .av_lj(b2_lj), .av_h(b2_h), .av_e(b_e), .av_vv(b_v));

    // ---------------------------------------------------------------- stage A1..A2: score lanes -> sbuf
    // padded keys need no mask: the running max skips them and their e is 0
    fp_score_unit #(.D(D), .P(P), .QW(QW), .SW(SW), .PACK(PACK), .TW(P + 4)) score_u (
        .clk(clk), .rst(rst), .en(en), .q(a_q), .k(a_k), .in_tag({a1_v, a1_bank, a1_first, a1_last, a_lv}), .s(a_s),
        .out_tag({s_v, s_bank, s_first, s_last, s_lv}));
    integer i;
    always @* begin
        for (i = 0; i < P; i = i + 1) a_sw[i*LW +: LW] = {s_lv[i], a_s[i*SW +: SW]};
    end
    // A3: the beat's max -> the job's running max (final at its last beat: into the job's parity slot)
    wire [SW-1:0] m_max;
    fp_max_tree #(.P(P), .SW(SW), .TW(4)) max_u (
        .clk(clk), .rst(rst), .en(en), .lane_valid(s_lv), .s(a_s), .in_tag({s_v, s_bank, s_first, s_last}),
        .smax(m_max), .any(m_any), .out_tag({m_v, m_bank, m_first, m_last}));
    reg [SW-1:0] mx_run, mx0, mx1;
    reg any_run;
    wire take_new = m_any && (m_first || !any_run || $signed(m_max) > $signed(mx_run));
    wire [SW-1:0] mx_next = take_new ? m_max : (m_first ? {SW{1'b0}} : mx_run);
    always @(posedge clk) begin
        if (en && m_v) begin
            mx_run <= mx_next;
            any_run <= m_any || (!m_first && any_run);
            if (m_last) begin
                if (m_bank) mx1 <= mx_next;
                else mx0 <= mx_next;
            end
        end
    end

    // ---------------------------------------------------------------- stage B1: exp index (pipelined), table, V
    wire [SW-1:0] b_mx = b1_bank ? mx1 : mx0;
    localparam BTW = 4 + P + 2 * XB;              // {v, first, last, lj, lane valid, h, g}
    wire [P*TB-1:0] b_idx;
    wire [BTW-1:0] x_tag;
    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : b_lane
            wire [BTW-1:0] t;
            fp_exp_index #(.SW(SW), .IPW(IPW), .INV(INV), .SH(ISH), .T(T), .TB(TB), .TW(BTW)) idx_u (
                .clk(clk), .rst(rst), .en(en), .smax(b_mx), .s(s_rd[p*LW +: SW]),
                .in_tag({b1_v, b1_first, b1_last, b1_lj, b1_lv, b1_h, b1_g}), .idx(b_idx[p*TB +: TB]), .out_tag(t));
            if (p == 0) begin : tag
                assign x_tag = t;
            end
        end
    endgenerate
    wire [P-1:0] b1_lv;
    generate
        for (p = 0; p < P; p = p + 1) begin : b1_lane
            assign b1_lv[p] = s_rd[p*LW + SW];
        end
    endgenerate
    wire x_v, x_first, x_last, x_lj;
    wire [P-1:0] x_lv;
    wire [XB-1:0] x_h, x_g;
    assign {x_v, x_first, x_last, x_lj, x_lv, x_h, x_g} = x_tag;
    assign v_re = x_v;
    assign v_g = x_g;
    wire [P*EW-1:0] e_raw;
    generate
        for (p = 0; p < P; p = p + 1) begin : e_lane
            if (ESH == 2 && p % 2 == 0 && p + 1 < P) begin : pair      // one table, two read ports, two lanes
                table_rom_sync2 #(.DEPTH(T), .AW(TB), .DW(EW), .FILE(EXP_FILE)) exp_rom (
                    .clk(clk), .en(en && x_v), .addr_a(b_idx[p*TB +: TB]), .addr_b(b_idx[(p+1)*TB +: TB]),
                    .data_a(e_raw[p*EW +: EW]), .data_b(e_raw[(p+1)*EW +: EW]));
            end else if (!(ESH == 2 && p % 2 == 1)) begin : own
                table_rom_sync #(.DEPTH(T), .AW(TB), .DW(EW), .FILE(EXP_FILE)) exp_rom (
                    .clk(clk), .en(en && x_v), .addr(b_idx[p*TB +: TB]), .data(e_raw[p*EW +: EW]));
            end
        end
    endgenerate

    // ---------------------------------------------------------------- stage B2: dense AV over the P lanes (ctl.av_u)
    generate
        for (p = 0; p < P; p = p + 1) begin : b2_lane
            wire [E*VW-1:0] vrow = v_rd[p*E*VW +: E*VW];
            wire [D*VW-1:0] vh;
            word_select #(.W(D*VW), .N(H), .SB(XB)) vsel (.in(vrow), .sel(b2_h), .out(vh));
            if (p < LASTW) begin : in_range
                assign b_v[p*D*VW +: D*VW] = vh;          // e = 0 for a padded key: e v = 0
            end else begin : tail
                assign b_v[p*D*VW +: D*VW] = b2_last ? {D*VW{1'b0}} : vh;
            end
            assign b_e[p*EW +: EW] = b2_lv[p] ? e_raw[p*EW +: EW] : {EW{1'b0}};
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) b2_v <= 1'b0;
        // B2: the table read and the V row arrive one cycle after the index
        else if (en) begin
            b2_v <= x_v; b2_h <= x_h; b2_lj <= x_lj; b2_first <= x_first; b2_last <= x_last; b2_lv <= x_lv;
        end
    end
endmodule
`default_nettype wire
