// had-hls RTL twin of the Scores loop of templates/hls/nnet_fp_attention.h (golden.fp_scores / fp_exp_weights).
//   fp_score_unit : P lanes, each a D-term dot product s_p = sum_c q[c] k_p[c] of qk mantissas (exact, SW bits,
//                   2 F_qk fractional bits); D multipliers per lane, P*D in all.
//   fp_max_update : running max over the valid lanes (in key order, like the C++: first valid or strictly greater).
//   fp_exp_index  : idx = min(T - 1, round_half_up((smax - s) * inv_sqrt_d >> SH))  (exact, IPW-bit product).
`default_nettype none
module fp_score_unit #(
    parameter D  = 8,
    parameter P  = 4,
    parameter QW = 16,
    parameter SW = 36
) (
    input  wire [D*QW-1:0]   q,
    input  wire [P*D*QW-1:0] k,
    output reg  [P*SW-1:0]   s
);
    integer p, c;
    reg signed [SW-1:0] acc, qq, kk;
    always @* begin
        for (p = 0; p < P; p = p + 1) begin
            acc = 0;
            for (c = 0; c < D; c = c + 1) begin
                qq = $signed(q[c*QW +: QW]);
                kk = $signed(k[(p*D + c)*QW +: QW]);
                acc = acc + qq * kk;
            end
            s[p*SW +: SW] = acc;
        end
    end
endmodule

module fp_max_update #(
    parameter P  = 4,
    parameter SW = 36
) (
    input  wire          first,
    input  wire [SW-1:0] smax_in,
    input  wire          any_in,
    input  wire [P-1:0]  lane_valid,
    input  wire [P*SW-1:0] s,
    output reg  [SW-1:0] smax_out,
    output reg           any_out
);
    integer p;
    always @* begin
        smax_out = first ? {SW{1'b0}} : smax_in;
        any_out = first ? 1'b0 : any_in;
        for (p = 0; p < P; p = p + 1)
            if (lane_valid[p] && (!any_out || $signed(s[p*SW +: SW]) > $signed(smax_out))) begin
                smax_out = s[p*SW +: SW];
                any_out = 1'b1;
            end
    end
endmodule

module fp_exp_index #(
    parameter SW  = 36,
    parameter IPW = 55,         // spec.widths['fp_index_prod']
    parameter INV = 46341,      // spec.fp_inv_sqrt_d
    parameter SH  = 23,         // spec.fp_index_shift
    parameter T   = 1024,       // fp_exp_table_size
    parameter TB  = 10          // spec.widths['fp_index']
) (
    input  wire [SW-1:0] smax,
    input  wire [SW-1:0] s,
    output reg  [TB-1:0] idx
);
    localparam XW = IPW + 4;
    reg signed [XW-1:0] diff, prod, half, inv;
    always @* begin
        diff = $signed(smax);
        diff = diff - $signed(s);
        inv = INV;
        half = 1;
        half = half <<< (SH - 1);
        prod = (diff * inv + half) >>> SH;
        idx = (prod >= T) ? T - 1 : prod[TB-1:0];
    end
endmodule
`default_nettype wire
