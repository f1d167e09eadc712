// had-hls RTL twin of templates/hls/nnet_fp_attention.h (fp_attention_core, from the projections on) and of
// golden.attention_trace (kind 'fp'): the standard-attention baseline at the same parallelism P as the HAD core.
//
// Interfaces as had_attention_core, except in_q / in_k carry the Q / K projections converted to the qk type
// (E mantissas of QW bits, element o at [o*QW +: QW]) instead of sign bits.
// One job per (query i, head h):
//   stage A (ceil(L/P) cycles): P lanes of D-term dot products (fp_score_unit, P*D multipliers) -> score buffer,
//            running max over the valid keys (fp_max_update)
//   stage B (ceil(L/P) cycles): idx = min(T-1, round_half_up((smax - s) inv_sqrt_d >> sh)) (fp_exp_index),
//            e = fp_exp_table[idx] for every valid key, S += e, acc[c] += e v[c] (softmax_av_lanes)
//   stage C (1 cycle): normalise_row (shared with the HAD core).
// Same ping-pong banks as the HAD core: a query row costs H * ceil(L/P) cycles in steady state.
`default_nettype none
module fp_attention_core #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
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
    localparam LP = G * P;
    localparam XB = $clog2(LP + E + 2) + 1;

    reg [E*QW-1:0] qmem [0:L-1];
    reg [E*QW-1:0] kmem [0:LP-1];
    reg [E*VW-1:0] vmem [0:LP-1];
    reg [LP-1:0]   vld;

    reg run;
    reg [XB-1:0] ld;
    assign in_ready = !run && !rst;
    assign busy = run;

    reg a_active, a_bank;
    reg [XB-1:0] a_g, a_i, a_h;
    reg [1:0] full;
    reg [SW-1:0] mx0, mx1;
    reg any0, any1;
    reg [LP*SW-1:0] sb0, sb1;
    reg [XB-1:0] bh0, bh1;
    reg b_bank;
    reg [XB-1:0] b_g;
    wire [SUMW-1:0] b_sum;
    wire [D*AVW-1:0] b_av;
    reg c_pending;
    reg [XB-1:0] c_h;
    reg [E*CW-1:0] ctxrow;

    wire a_go = a_active && !full[a_bank];
    wire a_last = (a_g == G - 1);
    wire c_stall = c_pending && (c_h == H - 1) && ctx_valid && !ctx_ready;
    wire b_go = full[b_bank] && !c_stall;
    wire b_last = (b_g == G - 1);

    // ---------------------------------------------------------------- stage A: scores
    wire [E*QW-1:0] a_qrow = qmem[a_i];
    wire [D*QW-1:0] a_q = a_qrow[a_h*D*QW +: D*QW];
    wire [P*D*QW-1:0] a_k;
    wire [P-1:0] a_lv;
    wire [P*SW-1:0] a_s;
    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : a_lane
            wire [E*QW-1:0] krow = kmem[a_g*P + p];
            assign a_k[p*D*QW +: D*QW] = a_lv[p] ? krow[a_h*D*QW +: D*QW] : {D*QW{1'b0}};
            assign a_lv[p] = vld[a_g*P + p];
        end
    endgenerate
    fp_score_unit #(.D(D), .P(P), .QW(QW), .SW(SW)) score_u (.q(a_q), .k(a_k), .s(a_s));
    wire [SW-1:0] a_mx_next;
    wire a_any_next;
    fp_max_update #(.P(P), .SW(SW)) max_u (
        .first(a_g == 0), .smax_in(a_bank ? mx1 : mx0), .any_in(a_bank ? any1 : any0), .lane_valid(a_lv),
        .s(a_s), .smax_out(a_mx_next), .any_out(a_any_next));

    // ---------------------------------------------------------------- stage B: exp weights + AV
    wire [SW-1:0] b_mx = b_bank ? mx1 : mx0;
    wire [LP*SW-1:0] b_sb = b_bank ? sb1 : sb0;
    wire [XB-1:0] b_h = b_bank ? bh1 : bh0;
    wire [P-1:0] b_lv;
    wire [P*D*VW-1:0] b_v;
    wire [P*EW-1:0] b_e;
    generate
        for (p = 0; p < P; p = p + 1) begin : b_lane
            wire [E*VW-1:0] vrow = vmem[b_g*P + p];
            wire [TB-1:0] idx;
            wire [EW-1:0] e_raw;
            assign b_lv[p] = vld[b_g*P + p];
            assign b_v[p*D*VW +: D*VW] = b_lv[p] ? vrow[b_h*D*VW +: D*VW] : {D*VW{1'b0}};
            fp_exp_index #(.SW(SW), .IPW(IPW), .INV(INV), .SH(ISH), .T(T), .TB(TB)) idx_u (
                .smax(b_mx), .s(b_sb[(b_g*P + p)*SW +: SW]), .idx(idx));
            table_rom #(.DEPTH(T), .AW(TB), .DW(EW), .FILE(EXP_FILE)) exp_rom (.addr(idx), .data(e_raw));
            assign b_e[p*EW +: EW] = b_lv[p] ? e_raw : {EW{1'b0}};
        end
    endgenerate
    softmax_av_lanes #(.P(P), .D(D), .EW(EW), .VW(VW), .SUMW(SUMW), .AVW(AVW)) av_u (
        .clk(clk), .en(b_go), .first(b_g == 0), .e(b_e), .v(b_v), .sum(b_sum), .av(b_av));

    // ---------------------------------------------------------------- stage C: normalise
    wire [D*CW-1:0] ctx_h;
    normalise_row #(.D(D), .SUMW(SUMW), .AVW(AVW), .RW(RW), .R(R), .NPW(NPW), .CW(CW), .VF(VF), .RF(RF), .CF(CF),
                    .RECIP_FILE(RECIP_FILE)) norm_u (.sum(b_sum), .acc(b_av), .ctx(ctx_h));
    reg [E*CW-1:0] row_next;
    always @* begin
        row_next = ctxrow;
        row_next[c_h*D*CW +: D*CW] = ctx_h;
    end

    always @(posedge clk) begin
        if (rst) begin
            run <= 1'b0; ld <= 0; vld <= {LP{1'b0}};
            a_active <= 1'b0; a_bank <= 1'b0; a_g <= 0; a_i <= 0; a_h <= 0;
            full <= 2'b00; b_bank <= 1'b0; b_g <= 0;
            c_pending <= 1'b0; c_h <= 0; ctx_valid <= 1'b0;
        end else begin
            if (in_valid && in_ready) begin
                qmem[ld] <= in_q;
                kmem[ld] <= in_k;
                vmem[ld] <= in_v;
                vld[ld] <= !in_pad;
                if (ld == L - 1) begin
                    ld <= 0;
                    run <= 1'b1;
                    a_active <= 1'b1; a_g <= 0; a_i <= 0; a_h <= 0;
                end else begin
                    ld <= ld + 1'b1;
                end
            end
            if (a_go) begin
                if (a_bank) begin
                    mx1 <= a_mx_next; any1 <= a_any_next; sb1[a_g*P*SW +: P*SW] <= a_s;
                end else begin
                    mx0 <= a_mx_next; any0 <= a_any_next; sb0[a_g*P*SW +: P*SW] <= a_s;
                end
                if (a_last) begin
                    if (a_bank) bh1 <= a_h;
                    else bh0 <= a_h;
                    a_bank <= !a_bank;
                    a_g <= 0;
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
            if (b_go) begin
                if (b_last) begin
                    b_g <= 0;
                    b_bank <= !b_bank;
                    c_h <= b_h;
                end else begin
                    b_g <= b_g + 1'b1;
                end
            end
            full <= (full | ((a_go && a_last) ? (2'b01 << a_bank) : 2'b00))
                         & ~((b_go && b_last) ? (2'b01 << b_bank) : 2'b00);
            if (c_pending && !c_stall) begin
                ctxrow <= row_next;
                if (c_h == H - 1) begin
                    ctx_data <= row_next;
                    ctx_valid <= 1'b1;
                end
            end
            if (ctx_valid && ctx_ready && !(c_pending && !c_stall && c_h == H - 1)) ctx_valid <= 1'b0;
            c_pending <= (b_go && b_last) ? 1'b1 : (c_pending && !c_stall ? 1'b0 : c_pending);
            if (run && !a_active && full == 2'b00 && !c_pending && !(b_go && b_last))
                run <= 1'b0;
        end
    end
endmodule
`default_nettype wire
