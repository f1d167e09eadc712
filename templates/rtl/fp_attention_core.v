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
`default_nettype none
module fp_attention_core #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
    parameter DN   = 0,     // normaliser lanes; 0 = derive: the smallest divisor of D with D / DN <= ceil(L/P)
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
    output reg              ctx_valid,
    input  wire             ctx_ready,
    output reg  [E*CW-1:0]  ctx_data,
    output wire             busy
);
    localparam D  = E / H;
    localparam G  = (L + P - 1) / P;
    localparam XB = $clog2(L * P + E + G + 2) + 1;
    localparam LW = SW + 1;                      // sbuf lane: {valid, score}
    localparam LM = (P > 1) ? $clog2(P) : 1;     // fp_max_tree stages
    localparam SBD = (2 + (LM + 3) / G) * G;     // sbuf rows: scores held from A2 until the second pass reads them
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

    reg n_active, n_lj;
    reg [XB-1:0] n_k, n_h;
    wire c_emit;                                  // this cycle completes a context row (normaliser output)
    wire c_stall = c_emit && ctx_valid && !ctx_ready;
    wire en = !c_stall;

    reg [XB-1:0] ld, ld_p, ld_r;

    // ---------------------------------------------------------------- stage A0: job counters, memory reads
    reg a_active, a_bank;
    reg [XB-1:0] a_g, a_i, a_h;
    wire a_fire = en && a_active;
    reg b_active, b_bank;
    reg [XB-1:0] b_g, b_h, b_i;               // beat; head and query (B counts the jobs in order)

    reg [E*QW-1:0] qmem [0:L-1];
    reg [E*QW-1:0] q_rd;
    always @(posedge clk) begin
        if (ld_we) qmem[ld] <= in_q;
        if (a_fire) q_rd <= qmem[a_i];
    end

    wire [XB-1:0] v_g;                        // V row read for the second pass (beat of the exp-index output)
    wire v_re;
    wire [P*E*QW-1:0] k_rd;
    wire [P*E*VW-1:0] v_rd;
    wire [P-1:0] vld_rd;
    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : kb
            localparam DEP0 = (L - p + P - 1) / P;
            localparam DEP = (DEP0 > 0) ? DEP0 : 1;
            reg [E*QW-1:0] kmem [0:DEP-1];
            reg            vldmem [0:DEP-1];
            reg [E*VW-1:0] vmem [0:DEP-1];
            reg [E*QW-1:0] rd;
            reg            vrd;
            reg [E*VW-1:0] vd;
            always @(posedge clk) begin
                if (ld_we && ld_p == p) begin
                    kmem[ld_r] <= in_k;
                    vldmem[ld_r] <= !in_pad;
                    vmem[ld_r] <= in_v;
                end
                if (a_fire) begin
                    rd <= kmem[a_g];
                    vrd <= vldmem[a_g];
                end
                if (en && v_re) vd <= vmem[v_g];
            end
            assign k_rd[p*E*QW +: E*QW] = rd;
            assign vld_rd[p] = vrd;
            assign v_rd[p*E*VW +: E*VW] = vd;
        end
    endgenerate

    // ---------------------------------------------------------------- stage A1: head select -> score lanes
    reg a1_v, a1_bank, a1_first, a1_last;
    reg [XB-1:0] a1_g, a1_h;
    wire [P-1:0] a_lv;
    wire [D*QW-1:0] a_q;
    word_select #(.W(D*QW), .N(H), .SB(XB)) a_qsel (.in(q_rd), .sel(a1_h), .out(a_q));
    wire [P*D*QW-1:0] a_k;
    generate
        for (p = 0; p < P; p = p + 1) begin : a_lane
            assign a_lv[p] = vld_rd[p] && (!a1_last || p < LASTW);
            wire [D*QW-1:0] kh;
            word_select #(.W(D*QW), .N(H), .SB(XB)) ksel (.in(k_rd[p*E*QW +: E*QW]), .sel(a1_h), .out(kh));
            // lanes past key L-1 in the last group read rows that were never written (x in 4-state simulation);
            // padded keys need no mask: the running max skips them and their e is 0
            if (p < LASTW) begin : in_range
                assign a_k[p*D*QW +: D*QW] = kh;
            end else begin : tail
                assign a_k[p*D*QW +: D*QW] = a1_last ? {D*QW{1'b0}} : kh;
            end
        end
    endgenerate
    // A2: the scores, with the beat's facts
    wire s_v, s_bank, s_first, s_last;
    wire [P-1:0] s_lv;
    wire [P*SW-1:0] a_s;
    fp_score_unit #(.D(D), .P(P), .QW(QW), .SW(SW), .TW(P + 4)) score_u (
        .clk(clk), .rst(rst), .en(en), .q(a_q), .k(a_k), .in_tag({a1_v, a1_bank, a1_first, a1_last, a_lv}), .s(a_s),
        .out_tag({s_v, s_bank, s_first, s_last, s_lv}));
    reg [XB-1:0] sb_wr, sb_rd;
    reg [P*LW-1:0] sbuf [0:SBD-1];
    reg [P*LW-1:0] a_sw;
    integer i, k;
    always @* begin
        for (i = 0; i < P; i = i + 1) a_sw[i*LW +: LW] = {s_lv[i], a_s[i*SW +: SW]};
    end
    always @(posedge clk) if (en && s_v) sbuf[sb_wr] <= a_sw;
    // A3: the beat's max -> the job's running max (final at its last beat: into the job's parity slot)
    wire m_v, m_bank, m_first, m_last, m_any;
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

    // ---------------------------------------------------------------- stage B0: read sbuf
    reg [P*LW-1:0] s_rd;
    always @(posedge clk) if (en && b_active) s_rd <= sbuf[sb_rd];

    // ---------------------------------------------------------------- stage B1: exp index (pipelined), table, V
    reg b1_v, b1_bank, b1_first, b1_last, b1_lj;
    reg [XB-1:0] b1_h, b1_g;
    wire [SW-1:0] b_mx = b1_bank ? mx1 : mx0;
    localparam BTW = 4 + P + 2 * XB;              // {v, first, last, lj, lane valid, h, g}
    wire [P*TB-1:0] b_idx;
    wire [BTW-1:0] x_tag;
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
            table_rom_sync #(.DEPTH(T), .AW(TB), .DW(EW), .FILE(EXP_FILE)) exp_rom (
                .clk(clk), .en(en && x_v), .addr(b_idx[p*TB +: TB]), .data(e_raw[p*EW +: EW]));
        end
    endgenerate

    // ---------------------------------------------------------------- stage B2: dense AV over the P lanes
    reg b2_v, b2_first, b2_last, b2_lj;
    reg [XB-1:0] b2_h;
    reg [P-1:0] b2_lv;
    wire [P*D*VW-1:0] b_v;
    wire [P*EW-1:0] b_e;
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
    wire [SUMW-1:0] b_sum;
    wire [D*AVW-1:0] b_av;
    wire av_done, av_done_lj;
    wire [XB-1:0] av_done_h;
    softmax_av_lanes #(.P(P), .D(D), .EW(EW), .VW(VW), .SUMW(SUMW), .AVW(AVW), .TW(XB + 1)) av_u (
        .clk(clk), .rst(rst), .en(en), .in_v(b2_v), .in_first(b2_first), .in_last(b2_last), .e(b_e), .v(b_v),
        .in_tag({b2_h, b2_lj}), .sum(b_sum), .av(b_av), .done(av_done), .out_tag({av_done_h, av_done_lj}));

    // ---------------------------------------------------------------- stage C: normalise (DN elements per cycle)
    wire [DNX*CW-1:0] ctx_dn;
    wire o_v, o_row_end, o_fin;                   // a normalised group leaves; it ends a context row / the input
    normalise_row #(.D(D), .DN(DNX), .SUMW(SUMW), .AVW(AVW), .RW(RW), .R(R), .NPW(NPW), .CW(CW), .VF(VF), .RF(RF),
                    .CF(CF), .TW(2), .RECIP_FILE(RECIP_FILE)) norm_u (
        .clk(clk), .rst(rst), .en(en), .load(av_done), .step(n_active), .sum(b_sum), .acc(b_av),
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
            a1_v <= 1'b0; sb_wr <= 0; sb_rd <= 0;
            b_active <= 1'b0; b_h <= 0; b_i <= 0; b1_v <= 1'b0; b2_v <= 1'b0;
            n_active <= 1'b0; ctx_valid <= 1'b0;
        end else begin
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
                a1_v <= a_active; a1_g <= a_g; a1_h <= a_h; a1_bank <= a_bank;
                a1_first <= (a_g == 0); a1_last <= (a_g == G - 1);
                if (s_v) sb_wr <= (sb_wr == SBD - 1) ? 0 : sb_wr + 1'b1;
                // B0: starts when the job's running max is final
                if (b_active && b_g == G - 1) begin   // a job ends: the next one's head and query
                    if (b_h == H - 1) begin
                        b_h <= 0;
                        b_i <= (b_i == L - 1) ? 0 : b_i + 1'b1;
                    end else begin
                        b_h <= b_h + 1'b1;
                    end
                end
                if (m_v && m_last) begin
                    b_active <= 1'b1; b_g <= 0; b_bank <= m_bank;
                end else if (b_active) begin
                    if (b_g == G - 1) b_active <= 1'b0;
                    b_g <= b_g + 1'b1;
                end
                if (b_active) sb_rd <= (sb_rd == SBD - 1) ? 0 : sb_rd + 1'b1;
                b1_v <= b_active; b1_bank <= b_bank; b1_h <= b_h; b1_g <= b_g;
                b1_lj <= (b_i == L - 1) && (b_h == H - 1);
                b1_first <= (b_g == 0); b1_last <= (b_g == G - 1);
                // B2: the table read and the V row arrive one cycle after the index
                b2_v <= x_v; b2_h <= x_h; b2_lj <= x_lj; b2_first <= x_first; b2_last <= x_last; b2_lv <= x_lv;
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
