// had-hls RTL twin of templates/hls/nnet_had_attention.h (had_attention_core, from the projections on) and of
// golden.attention_trace (kind 'had'): Hamming scores -> counting top-N -> exp-table softmax over the kept keys
// -> S and AV -> reciprocal normalisation -> context rows.
//
// Interfaces (valid/ready streams, one clock, synchronous active-high reset):
//   in  : L beats per input, token t = 0..L-1: in_q / in_k = the sign bits of the Q / K projections of token t
//         (bit h*D + c = 1 where the accumulator is < 0), in_v = its value mantissas (element o at [o*VW +: VW]),
//         in_pad = 1 for a padded key (never attended).
//   ctx : L beats, query row i = 0..L-1 (all H heads), element o at [o*CW +: CW] (context mantissas).
// The Q/K/V projections are NOT in this core (they are fed in; see docs/rtl.md): the core holds the K bit
// memory (L x E bits = L x d bits per head), the Q codes and V, and runs one job per (query i, head h):
//   stage A (ceil(L/P) cycles): P Hamming lanes (hamming_unit) -> distances into a ham buffer + (d+1)-bin histogram
//   stage B (ceil(L/P) cycles): threshold / take / hmin (topn_threshold), per lane keep (topn_keep),
//            e = exp_table[ham - hmin] (table_rom), S += e, acc[c] += e v[c] (softmax_av_lanes, P*D MACs)
//   stage C (1 cycle): normalise_row -> D context mantissas of head h; after head H-1 the row is emitted.
// A and B work on two ping-pong banks (ham buffer + histogram), so in steady state one job finishes every
// ceil(L/P) cycles: a query row costs H * ceil(L/P) cycles, the first one 2 ceil(L/P) + 2 (pipeline fill).
`default_nettype none
module had_attention_core #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
    parameter N    = 4,
    parameter HB   = 4,     // spec.widths['ham']
    parameter CB   = 4,     // spec.widths['count']
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
    localparam D  = E / H;
    localparam G  = (L + P - 1) / P;     // groups of P keys per row
    localparam LP = G * P;
    localparam XB = $clog2(LP + E + 2) + 1;   // counters
    localparam HWB = (D + 1) * CB;

    // ---------------------------------------------------------------- memories (K bit memory, Q codes, V)
    reg [E-1:0]    qmem [0:L-1];
    reg [E-1:0]    kmem [0:LP-1];
    reg [E*VW-1:0] vmem [0:LP-1];
    reg [LP-1:0]   vld;

    reg run;
    reg [XB-1:0] ld;
    assign in_ready = !run && !rst;
    assign busy = run;

    // ---------------------------------------------------------------- stage A state
    reg a_active, a_bank;
    reg [XB-1:0] a_g, a_i, a_h;
    // ---------------------------------------------------------------- bank state (ping-pong)
    reg [1:0] full;
    reg [HWB-1:0] hist0, hist1;
    reg [CB-1:0] nv0, nv1;
    reg [LP*HB-1:0] hb0, hb1;
    reg [XB-1:0] bi0, bi1, bh0, bh1;
    // ---------------------------------------------------------------- stage B / C state
    reg b_bank;
    reg [XB-1:0] b_g;
    reg [CB-1:0] b_seen;
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

    // ---------------------------------------------------------------- stage A datapath
    wire [E-1:0] a_qrow = qmem[a_i];
    wire [D-1:0] a_q = a_qrow[a_h*D +: D];
    wire [P*D-1:0] a_k;
    wire [P-1:0] a_lv;
    wire [P*HB-1:0] a_ham;
    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : a_lane
            wire [E-1:0] krow = kmem[a_g*P + p];
            assign a_k[p*D +: D] = krow[a_h*D +: D];
            assign a_lv[p] = vld[a_g*P + p];
        end
    endgenerate
    hamming_unit #(.D(D), .P(P), .HB(HB)) ham_u (.q(a_q), .k(a_k), .ham(a_ham));
    wire [HWB-1:0] a_hist_next;
    wire [CB-1:0] a_nv_next;
    topn_hist_update #(.D(D), .P(P), .HB(HB), .CB(CB)) hist_u (
        .first(a_g == 0), .hist_in(a_bank ? hist1 : hist0), .nvalid_in(a_bank ? nv1 : nv0),
        .lane_valid(a_lv), .ham(a_ham), .hist_out(a_hist_next), .nvalid_out(a_nv_next));

    // ---------------------------------------------------------------- stage B datapath
    wire [HWB-1:0] b_hist = b_bank ? hist1 : hist0;
    wire [CB-1:0] b_nv = b_bank ? nv1 : nv0;
    wire [LP*HB-1:0] b_hb = b_bank ? hb1 : hb0;
    wire [XB-1:0] b_h = b_bank ? bh1 : bh0;
    wire [HB-1:0] thresh, hmin;
    wire [CB-1:0] take;
    topn_threshold #(.D(D), .HB(HB), .CB(CB), .N(N)) thr_u (
        .hist(b_hist), .nvalid(b_nv), .thresh(thresh), .take(take), .hmin(hmin));
    wire [P-1:0] b_lv, kept;
    wire [P*HB-1:0] b_ham;
    wire [P*D*VW-1:0] b_v;
    wire [P*EW-1:0] b_e;
    wire [CB-1:0] seen_next;
    generate
        for (p = 0; p < P; p = p + 1) begin : b_lane
            wire [E*VW-1:0] vrow = vmem[b_g*P + p];
            wire [EW-1:0] e_raw;
            assign b_lv[p] = vld[b_g*P + p];
            assign b_ham[p*HB +: HB] = b_hb[(b_g*P + p)*HB +: HB];
            assign b_v[p*D*VW +: D*VW] = kept[p] ? vrow[b_h*D*VW +: D*VW] : {D*VW{1'b0}};
            table_rom #(.DEPTH(D + 1), .AW(HB), .DW(EW), .FILE(EXP_FILE)) exp_rom (
                .addr(b_ham[p*HB +: HB] - hmin), .data(e_raw));
            assign b_e[p*EW +: EW] = kept[p] ? e_raw : {EW{1'b0}};
        end
    endgenerate
    topn_keep #(.P(P), .HB(HB), .CB(CB)) keep_u (
        .lane_valid(b_lv), .ham(b_ham), .thresh(thresh), .take(take), .seen_in(b_g == 0 ? {CB{1'b0}} : b_seen),
        .kept(kept), .seen_out(seen_next));
    softmax_av_lanes #(.P(P), .D(D), .EW(EW), .VW(VW), .SUMW(SUMW), .AVW(AVW)) av_u (
        .clk(clk), .en(b_go), .first(b_g == 0), .e(b_e), .v(b_v), .sum(b_sum), .av(b_av));

    // ---------------------------------------------------------------- stage C datapath
    wire [D*CW-1:0] ctx_h;
    normalise_row #(.D(D), .SUMW(SUMW), .AVW(AVW), .RW(RW), .R(R), .NPW(NPW), .CW(CW), .VF(VF), .RF(RF), .CF(CF),
                    .RECIP_FILE(RECIP_FILE)) norm_u (.sum(b_sum), .acc(b_av), .ctx(ctx_h));
    reg [E*CW-1:0] row_next;
    always @* begin
        row_next = ctxrow;
        row_next[c_h*D*CW +: D*CW] = ctx_h;
    end

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        if (rst) begin
            run <= 1'b0; ld <= 0; vld <= {LP{1'b0}};
            a_active <= 1'b0; a_bank <= 1'b0; a_g <= 0; a_i <= 0; a_h <= 0;
            full <= 2'b00; b_bank <= 1'b0; b_g <= 0; b_seen <= 0;
            c_pending <= 1'b0; c_h <= 0; ctx_valid <= 1'b0;
        end else begin
            // load
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
            // stage A
            if (a_go) begin
                if (a_bank) begin
                    hist1 <= a_hist_next; nv1 <= a_nv_next; hb1[a_g*P*HB +: P*HB] <= a_ham;
                end else begin
                    hist0 <= a_hist_next; nv0 <= a_nv_next; hb0[a_g*P*HB +: P*HB] <= a_ham;
                end
                if (a_last) begin
                    if (a_bank) begin bi1 <= a_i; bh1 <= a_h; end
                    else begin bi0 <= a_i; bh0 <= a_h; end
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
            // stage B
            if (b_go) begin
                b_seen <= seen_next;
                if (b_last) begin
                    b_g <= 0;
                    b_bank <= !b_bank;
                    c_h <= b_h;
                end else begin
                    b_g <= b_g + 1'b1;
                end
            end
            // bank handshake: A fills bank a_bank, B drains bank b_bank (never the same bank at once)
            full <= (full | ((a_go && a_last) ? (2'b01 << a_bank) : 2'b00))
                         & ~((b_go && b_last) ? (2'b01 << b_bank) : 2'b00);
            // stage C
            if (c_pending && !c_stall) begin
                ctxrow <= row_next;
                if (c_h == H - 1) begin
                    ctx_data <= row_next;
                    ctx_valid <= 1'b1;
                end
            end
            if (ctx_valid && ctx_ready && !(c_pending && !c_stall && c_h == H - 1)) ctx_valid <= 1'b0;
            c_pending <= (b_go && b_last) ? 1'b1 : (c_pending && !c_stall ? 1'b0 : c_pending);
            // end of an input: every job issued and drained
            if (run && !a_active && full == 2'b00 && !c_pending && !(b_go && b_last))
                run <= 1'b0;
        end
    end
endmodule
`default_nettype wire
