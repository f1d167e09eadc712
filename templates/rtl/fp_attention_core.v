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
//   sbuf           2G x P(SW+1)               scores + lane valid of one job, ping-pong halves (address bit)
// One job per (query i, head h), G = ceil(L/P); fixed schedule (offsets from the job's first A0 cycle):
//   A0 [0, G)        read qmem[i], kb[p] K row g
//   A1 [1, G]        P lanes of D-term dot products (fp_score_unit score_u, P*D multipliers) -> sbuf, running max
//                    over the valid keys (fp_max_update, ping-pong registers)
//   B0 [G+1, 2G]     read sbuf[parity][g]
//   B1 [G+2, 2G+1]   idx = min(T-1, round_half_up((smax - s) inv_sqrt_d >> sh)) (fp_exp_index), read
//                    fp_exp_table[idx] (table_rom_sync: block RAM) and kb[p] V row g
//   B2 [G+3, 2G+2]   e for every valid key, S += e, acc[c] += e v[c] (softmax_av_lanes av_u, dense: P * D MACs)
//   C  (1 + D/DN)    normalise_row norm_u (shared with the HAD core): snapshot, then DN elements per cycle.
// A query row costs H * ceil(L/P) cycles in steady state; the last context row of an input leaves
// L H G + G + D/DN + 5 cycles after the last key is loaded. The whole pipeline holds while a finished row waits
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

    reg c_pending, c_lj;
    reg [XB-1:0] c_h;
    reg n_active, n_lj;
    reg [XB-1:0] n_k, n_h;
    wire c_emit = n_active && (n_k == NC - 1) && (n_h == H - 1);   // this cycle completes a context row
    wire c_stall = c_emit && ctx_valid && !ctx_ready;
    wire en = !c_stall;

    reg [XB-1:0] ld, ld_p, ld_r;

    // ---------------------------------------------------------------- stage A0: job counters, memory reads
    reg a_active, a_bank;
    reg [XB-1:0] a_g, a_i, a_h;
    wire a_fire = en && a_active;
    reg b_active, b_bank, b_lj;
    reg [XB-1:0] b_g, b_h;
    wire b_fire = en && b_active;
    reg b1_v, b1_bank, b1_first, b1_last, b1_lj;
    reg [XB-1:0] b1_h, b1_g;
    wire b1_fire = en && b1_v;

    reg [E*QW-1:0] qmem [0:L-1];
    reg [E*QW-1:0] q_rd;
    always @(posedge clk) begin
        if (ld_we) qmem[ld] <= in_q;
        if (a_fire) q_rd <= qmem[a_i];
    end

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
                if (b1_fire) vd <= vmem[b1_g];
            end
            assign k_rd[p*E*QW +: E*QW] = rd;
            assign vld_rd[p] = vrd;
            assign v_rd[p*E*VW +: E*VW] = vd;
        end
    endgenerate

    // ---------------------------------------------------------------- stage A1: scores, running max, sbuf
    reg a1_v, a1_bank, a1_first, a1_last, a1_lj;
    reg [XB-1:0] a1_g, a1_h;
    reg [SW-1:0] mx0, mx1;
    reg any0, any1;
    wire [P-1:0] a_lv;
    wire [D*QW-1:0] a_q;
    word_select #(.W(D*QW), .N(H), .SB(XB)) a_qsel (.in(q_rd), .sel(a1_h), .out(a_q));
    wire [P*D*QW-1:0] a_k;
    wire [P*SW-1:0] a_s;
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
    fp_score_unit #(.D(D), .P(P), .QW(QW), .SW(SW)) score_u (.q(a_q), .k(a_k), .s(a_s));
    wire [SW-1:0] a_mx_next;
    wire a_any_next;
    fp_max_update #(.P(P), .SW(SW)) max_u (
        .first(a1_first), .smax_in(a1_bank ? mx1 : mx0), .any_in(a1_bank ? any1 : any0), .lane_valid(a_lv),
        .s(a_s), .smax_out(a_mx_next), .any_out(a_any_next));
    reg [P*LW-1:0] a_sw;
    integer i, k;
    always @* begin
        for (i = 0; i < P; i = i + 1) a_sw[i*LW +: LW] = {a_lv[i], a_s[i*SW +: SW]};
    end

    reg [P*LW-1:0] sbuf [0:2*G-1];
    always @(posedge clk) begin
        if (en && a1_v) begin
            sbuf[a1_bank * G + a1_g] <= a_sw;
            if (a1_bank) begin mx1 <= a_mx_next; any1 <= a_any_next; end
            else begin mx0 <= a_mx_next; any0 <= a_any_next; end
        end
    end

    // ---------------------------------------------------------------- stage B0: read sbuf (V read above)
    reg [P*LW-1:0] s_rd;
    always @(posedge clk) if (b_fire) s_rd <= sbuf[b_bank * G + b_g];

    // ---------------------------------------------------------------- stage B1: exp index, table read (block RAM)
    wire [SW-1:0] b_mx = b1_bank ? mx1 : mx0;
    wire [P*EW-1:0] b2_eraw;
    generate
        for (p = 0; p < P; p = p + 1) begin : b_lane
            wire [TB-1:0] idx;
            fp_exp_index #(.SW(SW), .IPW(IPW), .INV(INV), .SH(ISH), .T(T), .TB(TB)) idx_u (
                .smax(b_mx), .s(s_rd[p*LW +: SW]), .idx(idx));
            table_rom_sync #(.DEPTH(T), .AW(TB), .DW(EW), .FILE(EXP_FILE)) exp_rom (
                .clk(clk), .en(b1_fire), .addr(idx), .data(b2_eraw[p*EW +: EW]));
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
            assign b_e[p*EW +: EW] = b2_lv[p] ? b2_eraw[p*EW +: EW] : {EW{1'b0}};
        end
    endgenerate
    wire [SUMW-1:0] b_sum;
    wire [D*AVW-1:0] b_av;
    softmax_av_lanes #(.P(P), .D(D), .EW(EW), .VW(VW), .SUMW(SUMW), .AVW(AVW)) av_u (
        .clk(clk), .en(en && b2_v), .first(b2_first), .e(b_e), .v(b_v), .sum(b_sum), .av(b_av));

    // ---------------------------------------------------------------- stage C: normalise (DN elements per cycle)
    wire [DNX*CW-1:0] ctx_dn;
    normalise_row #(.D(D), .DN(DNX), .SUMW(SUMW), .AVW(AVW), .RW(RW), .R(R), .NPW(NPW), .CW(CW), .VF(VF), .RF(RF),
                    .CF(CF), .RECIP_FILE(RECIP_FILE)) norm_u (
        .clk(clk), .load(en && c_pending), .step(en && n_active), .sum(b_sum), .acc(b_av), .ctx(ctx_dn));
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
            a1_v <= 1'b0; b_active <= 1'b0; b1_v <= 1'b0; b2_v <= 1'b0;
            c_pending <= 1'b0; c_h <= 0; c_lj <= 1'b0; n_active <= 1'b0; ctx_valid <= 1'b0;
        end else begin
            if (ld_we) begin
                if (ld == L - 1) begin
                    ld <= 0; ld_p <= 0; ld_r <= 0;
                    run <= 1'b1;
                    a_active <= 1'b1; a_bank <= 1'b0; a_g <= 0; a_i <= 0; a_h <= 0;
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
                a1_first <= (a_g == 0); a1_last <= (a_g == G - 1); a1_lj <= (a_i == L - 1) && (a_h == H - 1);
                if (a1_v && a1_last) begin
                    b_active <= 1'b1; b_g <= 0; b_bank <= a1_bank; b_h <= a1_h; b_lj <= a1_lj;
                end else if (b_active) begin
                    if (b_g == G - 1) b_active <= 1'b0;
                    b_g <= b_g + 1'b1;
                end
                b1_v <= b_active; b1_bank <= b_bank; b1_h <= b_h; b1_lj <= b_lj; b1_g <= b_g;
                b1_first <= (b_g == 0); b1_last <= (b_g == G - 1);
                b2_v <= b1_v; b2_h <= b1_h; b2_lj <= b1_lj; b2_first <= b1_first; b2_last <= b1_last;
                for (k = 0; k < P; k = k + 1) b2_lv[k] <= s_rd[k*LW + SW];
                // C: load the normaliser, then NC steps of DN elements
                c_pending <= b2_v && b2_last;
                if (b2_v && b2_last) begin c_h <= b2_h; c_lj <= b2_lj; end
                if (c_pending) begin
                    n_active <= 1'b1; n_k <= 0; n_h <= c_h; n_lj <= c_lj;
                end else if (n_active) begin
                    if (n_k == NC - 1) n_active <= 1'b0;
                    n_k <= n_k + 1'b1;
                end
                if (n_active) begin
                    ctxrow <= row_next;
                    if (c_emit) begin
                        ctx_data <= row_next;
                        ctx_valid <= 1'b1;
                    end
                    if (n_k == NC - 1 && n_lj) run <= 1'b0;
                end
            end
            if (ctx_valid && ctx_ready && !(en && c_emit)) ctx_valid <= 1'b0;
        end
    end
endmodule
`default_nettype wire
