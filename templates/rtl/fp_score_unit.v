// had-hls RTL twin of the Scores loop of templates/hls/nnet_fp_attention.h (golden.fp_scores / fp_exp_weights),
// pipelined (every module registers its result; the caller's tag travels alongside):
//   fp_score_unit : P lanes, each a D-term dot product s_p = sum_c q[c] k_p[c] of qk mantissas (exact, SW bits,
//                   2 F_qk fractional bits); D multipliers per lane (registered: DSP MREG), then an adder tree with
//                   a register after every level (sum_tree). LAT = 1 + max(1, ceil(log2 D)).
//   fp_max_tree   : the largest valid score of a beat (a tree of compare-and-select, a register after every level;
//                   the running max over the row, first valid or strictly greater, equals the max of these).
//                   LAT = max(1, ceil(log2 P)).
//   fp_exp_index  : idx = min(T - 1, round_half_up((smax - s) * inv_sqrt_d >> SH))  (exact, IPW-bit product);
//                   D diff, M product (mul_wide), Q q = prod >> (SH - 1), O idx = min(T - 1, (q + 1) >> 1).
//                   LAT = 3 + mul_wide's.
`default_nettype none
module fp_score_unit #(
    parameter D  = 8,
    parameter P  = 4,
    parameter QW = 16,
    parameter SW = 36,
    parameter TW = 1
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              en,
    input  wire [D*QW-1:0]   q,
    input  wire [P*D*QW-1:0] k,
    input  wire [TW-1:0]     in_tag,
    output wire [P*SW-1:0]   s,
    output wire [TW-1:0]     out_tag
);
    localparam MW = 2 * QW;
    integer p, c;
    reg [P*D*MW-1:0] m;
    reg [TW-1:0] m_tag;
    reg m_valid;
    reg signed [QW-1:0] qq, kk;
    always @(posedge clk) begin
        if (en) begin
            m_tag <= in_tag;
            for (p = 0; p < P; p = p + 1)
                for (c = 0; c < D; c = c + 1) begin
                    qq = q[c*QW +: QW];
                    kk = k[(p*D + c)*QW +: QW];
                    m[(p*D + c)*MW +: MW] <= qq * kk;
                end
        end
    end
    genvar g;
    generate
        for (g = 0; g < P; g = g + 1) begin : lane
            wire [TW-1:0] t;
            sum_tree #(.N(D), .WI(MW), .WO(SW), .SIGNED(1), .RE(1), .TW(TW)) sum (
                .clk(clk), .rst(rst), .en(en), .in(m[g*D*MW +: D*MW]), .in_tag(m_tag), .out(s[g*SW +: SW]),
                .out_tag(t));
            if (g == 0) begin : tag
                assign out_tag = t;
            end
        end
    endgenerate
endmodule

module fp_max_tree #(
    parameter P  = 4,
    parameter SW = 36,
    parameter TW = 1
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            en,
    input  wire [P-1:0]    lane_valid,
    input  wire [P*SW-1:0] s,
    input  wire [TW-1:0]   in_tag,
    output wire [SW-1:0]   smax,
    output wire            any,          // some lane was valid (smax meaningful)
    output wire [TW-1:0]   out_tag
);
    localparam LV = (P > 1) ? $clog2(P) : 0;
    genvar l;
    generate
        if (LV == 0) begin : one
            reg [SW-1:0] m;
            reg a;
            reg [TW-1:0] tg;
            always @(posedge clk) begin
                if (rst) tg <= {TW{1'b0}};
                else if (en) tg <= in_tag;
                if (en) begin m <= s; a <= lane_valid[0]; end
            end
            assign smax = m;
            assign any = a;
            assign out_tag = tg;
        end else begin : tree
            for (l = 0; l < LV; l = l + 1) begin : lvl
                localparam NI = (P + (1 << l) - 1) >> l;
                localparam NO = (NI + 1) / 2;
                wire [NI*SW-1:0] vin;
                wire [NI-1:0] ain;
                wire [TW-1:0] tin;
                reg [NO*SW-1:0] v;
                reg [NO-1:0] a;
                reg [TW-1:0] tg;
                integer j;
                always @(posedge clk) begin
                    if (rst) tg <= {TW{1'b0}};
                    else if (en) tg <= tin;
                    if (en)
                        for (j = 0; j < NO; j = j + 1) begin
                            if (2 * j + 1 >= NI || !ain[2*j+1] ||
                                (ain[2*j] && $signed(vin[(2*j)*SW +: SW]) >= $signed(vin[(2*j+1)*SW +: SW]))) begin
                                v[j*SW +: SW] <= vin[(2*j)*SW +: SW];
                                a[j] <= ain[2*j];
                            end else begin
                                v[j*SW +: SW] <= vin[(2*j+1)*SW +: SW];
                                a[j] <= 1'b1;
                            end
                        end
                end
                if (l == 0) begin : first
                    assign vin = s;
                    assign ain = lane_valid;
                    assign tin = in_tag;
                end else begin : next
                    assign vin = lvl[l-1].v;
                    assign ain = lvl[l-1].a;
                    assign tin = lvl[l-1].tg;
                end
            end
            assign smax = lvl[LV-1].v[SW-1:0];
            assign any = lvl[LV-1].a[0];
            assign out_tag = lvl[LV-1].tg;
        end
    endgenerate
endmodule

module fp_exp_index #(
    parameter SW  = 36,
    parameter IPW = 55,         // spec.widths['fp_index_prod']
    parameter INV = 46341,      // spec.fp_inv_sqrt_d
    parameter SH  = 23,         // spec.fp_index_shift
    parameter T   = 1024,       // fp_exp_table_size
    parameter TB  = 10,         // spec.widths['fp_index']
    parameter TW  = 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire [SW-1:0] smax,
    input  wire [SW-1:0] s,
    input  wire [TW-1:0] in_tag,
    output reg  [TB-1:0] idx,
    output reg  [TW-1:0] out_tag
);
    localparam XW = IPW + 4;
    localparam QB = $clog2(2 * T + 1) + 1;    // q below the clamp
    localparam IB = $clog2(INV + 1);
    reg [SW:0] d1;                            // smax - s >= 0 (a valid key); anything for an invalid one (e = 0)
    reg [TW-1:0] t1, tq;
    wire [XW-1:0] prod;
    wire [TW-1:0] tm;
    reg [XW-1:0] q;
    wire [IB-1:0] inv = INV;
    always @(posedge clk) begin
        if (rst) begin
            t1 <= {TW{1'b0}}; tq <= {TW{1'b0}}; out_tag <= {TW{1'b0}};
        end else if (en) begin
            t1 <= in_tag; tq <= tm; out_tag <= tq;
        end
        if (en) d1 <= $signed({smax[SW-1], smax}) - $signed({s[SW-1], s});
    end
    mul_wide #(.AW(SW + 1), .BW(IB), .PW(XW), .TW(TW)) mul (
        .clk(clk), .rst(rst), .en(en), .a(d1), .b(inv), .in_tag(t1), .p(prod), .out_tag(tm));
    always @(posedge clk) begin
        if (en) begin
            q <= $signed(prod) >>> (SH - 1);
            // round half up: (q + 1) >> 1, clamped to T - 1 (q >= 2T - 1 <=> the rounded index >= T); q < 0 only
            // for an invalid lane
            idx <= ($signed(q) >= 2 * T - 1 || $signed(q) < 0) ? T - 1 : ((q[QB-1:0] + 1'b1) >> 1);
        end
    end
endmodule
`default_nettype wire
